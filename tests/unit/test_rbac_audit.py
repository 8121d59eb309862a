"""The audit log parser and the RBAC comparison of the e2e suite's usage check."""

from __future__ import annotations

import json

import pytest

from tests.e2e.rbac_audit import (
    Access,
    granted_access,
    rbac_denials,
    read_events,
    service_account_user,
    unused_grants,
    used_access,
)

USER = service_account_user("acr-operator-system", "acr-operator")


def event(verb: str, resource: str | None, *, group: str | None = None, subresource: str | None = None,
          user: str = USER, stage: str = "ResponseComplete") -> dict:
    result = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "stage": stage,
              "verb": verb, "user": {"username": user, "groups": ["system:serviceaccounts"]}}
    if resource is not None:
        ref = {"resource": resource, "namespace": "ns", "apiVersion": "v1"}
        if group is not None:
            ref["apiGroup"] = group
        if subresource is not None:
            ref["subresource"] = subresource
        result["objectRef"] = ref
    return result


def role(kind: str, *rules: dict) -> dict:
    return {"kind": kind, "metadata": {"name": "acr-operator"}, "rules": list(rules)}


def test_service_account_user_name():
    assert USER == "system:serviceaccount:acr-operator-system:acr-operator"


def test_read_events_json_lines(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(json.dumps(event("get", "secrets")) + "\n\n" + json.dumps(event("list", "events")) + "\n")
    assert [item["verb"] for item in read_events(path)] == ["get", "list"]


def test_read_events_invalid_line(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(json.dumps(event("get", "secrets")) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"audit.log:2: invalid JSON"):
        list(read_events(path))


def test_used_access_keeps_only_user():
    events = [
        event("watch", "registries", group="acr-operator.dev", stage="ResponseStarted"),
        event("watch", "registries", group="acr-operator.dev"),
        event("patch", "registries", group="acr-operator.dev", subresource="status"),
        event("create", "events"),
        event("get", "secrets", user="admin"),
        event("get", None),  # /apis discovery: no objectRef
    ]
    assert used_access(events, USER) == {
        Access("acr-operator.dev", "registries", "", "watch"),
        Access("acr-operator.dev", "registries", "status", "patch"),
        Access("", "events", "", "create"),
    }


def test_granted_access_expands_rules():
    objects = [
        {"kind": "ServiceAccount", "metadata": {"name": "acr-operator"}},
        role("ClusterRole",
             {"apiGroups": ["acr-operator.dev"], "resources": ["registries", "tokens/status"],
              "verbs": ["list", "patch"]}),
        role("Role", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                      "resourceNames": ["one"]}),
    ]
    assert granted_access(objects) == {
        Access("acr-operator.dev", "registries", "", "list"),
        Access("acr-operator.dev", "registries", "", "patch"),
        Access("acr-operator.dev", "tokens", "status", "list"),
        Access("acr-operator.dev", "tokens", "status", "patch"),
        Access("", "secrets", "", "get"),
    }


@pytest.mark.parametrize("rule", [
    {"apiGroups": [""], "resources": ["*"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
    {"nonResourceURLs": ["/healthz"], "verbs": ["get"]},
], ids=["resource-wildcard", "verb-wildcard", "non-resource-url"])
def test_granted_access_rejects_uncomparable_rule(rule):
    with pytest.raises(ValueError, match="not supported"):
        granted_access([role("ClusterRole", rule)])


def test_unused_grants_exact():
    granted = {Access("", "secrets", "", "get"), Access("", "secrets", "", "list"),
               Access("", "events", "", "create")}
    used = {Access("", "secrets", "", "get"), Access("", "events", "", "create"),
            Access("", "configmaps", "", "get")}
    assert unused_grants(granted, used) == [Access("", "secrets", "", "list")]


def decided(decision: str, verb: str, resource: str, **kwargs) -> dict:
    result = event(verb, resource, **kwargs)
    result["annotations"] = {"authorization.k8s.io/decision": decision}
    return result


def test_rbac_denials_lists_forbid():
    events = [decided("forbid", "delete", "secrets"), decided("allow", "create", "secrets")]
    assert rbac_denials(events, USER) == ["delete secrets () in namespace ns"]


def test_rbac_denials_ignores_admission_403():
    # A write into a terminating namespace is allowed by RBAC and refused by admission.
    terminating = decided("allow", "create", "events")
    terminating["responseStatus"] = {"code": 403, "reason": "Forbidden"}
    assert rbac_denials([terminating], USER) == []


def test_rbac_denials_other_user():
    assert rbac_denials([decided("forbid", "get", "pods", user="someone")], USER) == []
