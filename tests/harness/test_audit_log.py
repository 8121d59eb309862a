"""The API server's audit log: one JSON line per request, at level Metadata.

These tests check the harness, not the operator. The end-to-end suite reads
this log to find which verbs the operator's ServiceAccount used.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client, watch

pytestmark = pytest.mark.e2e


def audit_events(kube) -> list[dict]:
    assert kube.audit_log is not None, "only the harness's own control plane has an audit log"
    with open(kube.audit_log) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_audit_log_in_data_folder(kube):
    assert kube.audit_log is not None, "only the harness's own control plane has an audit log"
    assert kube.audit_log == kube.dir / "audit.log"
    assert kube.audit_log.is_file()


def test_audit_log_records_requests_without_bodies(kube, api, namespace):
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "audited"}, "data": {"word": "sentinel-audit-value"}})
    core.read_namespaced_config_map("audited", namespace)
    core.patch_namespaced_config_map("audited", namespace, {"data": {"word": "b"}})

    events = [
        event for event in audit_events(kube)
        if (event.get("objectRef") or {}).get("namespace") == namespace
        and event["objectRef"].get("resource") == "configmaps"
        and event["objectRef"].get("name") == "audited"
    ]
    assert [event["verb"] for event in events] == ["create", "get", "patch"]
    for event in events:
        assert event["stage"] == "ResponseComplete"
        assert event["level"] == "Metadata"
        assert event["user"]["username"] == "admin"
        assert "apiGroup" not in event["objectRef"]  # objectRef has no apiGroup for the core group
        assert "requestObject" not in event
        assert "responseObject" not in event
    assert [event["responseStatus"]["code"] for event in events] == [201, 200, 200]
    assert "sentinel-audit-value" not in kube.audit_log.read_text()


def test_audit_log_records_watch_and_subresource(kube, api, namespace):
    core = client.CoreV1Api(api)
    for _ in watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=1):
        pass
    core.read_namespace_status(namespace)

    events = [
        event for event in audit_events(kube)
        if (event.get("objectRef") or {}).get("namespace") == namespace
        or (event.get("objectRef") or {}).get("name") == namespace
    ]
    watches = [event for event in events if event["verb"] == "watch"]
    # A watch is logged when it opens and again when it ends.
    assert [event["stage"] for event in watches] == ["ResponseStarted", "ResponseComplete"]
    assert watches[0]["objectRef"]["resource"] == "configmaps"
    [status] = [event for event in events if event["objectRef"].get("subresource") == "status"]
    assert (status["verb"], status["objectRef"]["resource"]) == ("get", "namespaces")
