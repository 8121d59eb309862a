"""ARM actions end to end: ImageImport, PipelineRun reruns, deactivation, pings, usages, PECs.

Each test runs against the real API server, the operator process under the
chart's ServiceAccount and the emulator process. It counts the ARM requests
in the emulator's log, because an action must be sent exactly once per
change of its trigger, and a resync with nothing due must send none.
"""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client

from tests.e2e.conftest import GROUP, RESYNC_SECONDS, VERSION, wait_for
from tests.e2e.kinds import (
    Resources,
    condition_of,
    example,
    registry_arm_id,
    registry_manifest,
    unique_name,
)

pytestmark = pytest.mark.e2e

ENDPOINT_ID = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/app-rg"
               "/providers/Microsoft.Network/privateEndpoints/app-endpoint")


class Bench:
    """One test's namespace, with a Ready Premium registry and helpers for its children."""

    def __init__(self, custom, api, namespace: str, emulator, **registry_properties):
        self.custom = custom
        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.emulator = emulator
        self.azure_name = unique_name()
        self.registry_id = registry_arm_id(self.azure_name)
        self.registries = self.of("registries")
        self.registries.create(registry_manifest(
            "main", azure_name=self.azure_name, properties=registry_properties or None))
        self.registries.wait_condition("main", "Ready")

    def of(self, plural: str) -> Resources:
        return Resources(self.custom, self.namespace, plural)

    def child(self, kind: str, name: str, spec: dict) -> dict:
        return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name},
                "spec": {"registryRef": {"name": "main"}, **spec}}

    def posts(self, suffix: str) -> list[dict]:
        return [e for e in self.emulator.requests(method="POST", contains=self.azure_name)
                if e["path"].lower().endswith(suffix.lower())]

    def images(self) -> dict:
        return self.emulator.control("GET", f"images?registryId={self.registry_id}")


@pytest.fixture
def bench(custom, api, namespace, operator, emulator) -> Bench:
    emulator.control("PUT", "config", {"lro": "recorded", "operationSeconds": 2, "retryAfter": 1})
    return Bench(custom, api, namespace, emulator)


def image_import(bench: Bench, name: str, source: dict, tags: list[str]) -> dict:
    return bench.child("ImageImport", name, {"source": source, "targetTags": tags})


# --- ImageImport -------------------------------------------------------------------------

def test_image_import_puts_the_image_in_the_registry(bench):
    imports = bench.of("imageimports")
    imports.create(image_import(bench, "hello", {
        "registryUri": "docker.io", "sourceImage": "library/hello-world:latest"}, ["hello:v1"]))

    obj = imports.wait_condition("hello", "Ready")

    assert condition_of(obj, "Ready")["reason"] == "Imported"
    assert obj["status"]["result"] == {"status": "Succeeded"}
    assert obj["status"]["startedAt"] and obj["status"]["completedAt"]
    assert "operation" not in obj["status"]
    assert list(bench.images()["hello"]["tags"]) == ["v1"]
    assert len(bench.posts("/importImage")) == 1


def test_image_import_example_imports(bench):
    manifest = example("ImageImport")
    manifest["spec"]["registryRef"] = {"name": "main"}
    imports = bench.of("imageimports")
    imports.create(manifest)

    obj = imports.wait_condition(manifest["metadata"]["name"], "Ready")

    assert condition_of(obj, "Ready")["reason"] == "Imported"
    repository, tag = manifest["spec"]["targetTags"][0].split(":")
    assert list(bench.images()[repository]["tags"]) == [tag]


def test_image_import_missing_source_stalls(bench):
    imports = bench.of("imageimports")
    missing = registry_arm_id(unique_name("nosuch"))
    imports.create(image_import(bench, "missing", {
        "resourceId": missing, "sourceImage": "app:1"}, ["app:1"]))

    obj = imports.wait_condition("missing", "Stalled")

    (post,) = bench.posts("/importImage")
    assert post["status"] == 400
    ready = condition_of(obj, "Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == post["errorCode"]
    assert obj["status"]["result"]["status"] == "Failed"
    assert bench.images() == {}
    time.sleep(RESYNC_SECONDS + 2)
    assert len(bench.posts("/importImage")) == 1


def test_image_import_survives_a_restart_without_importing_twice(bench, emulator, operator):
    emulator.control("PUT", "config", {"lro": "recorded", "operationSeconds": 8, "retryAfter": 1})
    imports = bench.of("imageimports")
    imports.create(image_import(bench, "slow", {
        "registryUri": "mcr.microsoft.com", "sourceImage": "dotnet/runtime:8.0"}, ["runtime:8"]))
    wait_for(lambda: (imports.get("slow").get("status") or {}).get("operation"),
             timeout=30, what="status.operation of the import")

    operator.kill()
    operator.start()

    obj = imports.wait_condition("slow", "Ready", timeout=90)
    assert condition_of(obj, "Ready")["reason"] == "Imported"
    assert len(bench.posts("/importImage")) == 1
    assert list(bench.images()["runtime"]["tags"]) == ["8"]


def test_image_import_spec_cannot_change(bench):
    imports = bench.of("imageimports")
    imports.create(image_import(bench, "frozen", {
        "registryUri": "docker.io", "sourceImage": "library/alpine:3"}, ["alpine:3"]))

    with pytest.raises(client.ApiException) as raised:
        imports.patch("frozen", {"spec": {"targetTags": ["alpine:latest"]}})

    assert raised.value.status == 422
    assert "create a new ImageImport" in raised.value.body


def test_image_import_delete_keeps_the_images(bench):
    imports = bench.of("imageimports")
    imports.create(image_import(bench, "kept", {
        "registryUri": "docker.io", "sourceImage": "library/busybox:1"}, ["busybox:1"]))
    imports.wait_condition("kept", "Ready")

    imports.delete("kept")

    imports.wait_gone("kept", timeout=30)
    assert "busybox" in bench.images()
    assert bench.emulator.requests(method="DELETE", contains=bench.azure_name) == []


# --- PipelineRun -------------------------------------------------------------------------

def test_pipeline_run_runs_again_for_a_new_force_update_tag(bench):
    pipelines, runs = bench.of("importpipelines"), bench.of("pipelineruns")
    pipelines.create(bench.child("ImportPipeline", "inbound01", {
        "location": "westus2", "identity": {"type": "SystemAssigned"},
        "properties": {"source": {
            "type": "AzureStorageBlobContainer",
            "uri": "https://transfer.blob.core.windows.net/acr-import",
            "keyVaultUri": "https://vault.vault.azure.net/secrets/acr-import-sas"}},
    }))
    runs.create(bench.child("PipelineRun", "run01", {"properties": {
        "forceUpdateTag": "one",
        "request": {"pipelineRef": {"kind": "ImportPipeline", "name": "inbound01"},
                    "artifacts": ["hello:v1"],
                    "source": {"type": "AzureStorageBlob", "name": "hello.tar.gz"}}}}))
    first = runs.wait_condition("run01", "Ready")
    run_id = first["status"]["id"]
    response = first["status"]["properties"]["response"]
    assert response["status"] == "Succeeded"
    assert response["importedArtifacts"] == ["hello:v1"]
    assert first["status"]["properties"]["request"]["pipelineResourceId"].lower().endswith(
        "/importpipelines/inbound01")

    runs.patch("run01", {"spec": {"properties": {"forceUpdateTag": "two"}}})
    second = runs.wait_condition("run01", "Ready")

    puts = bench.emulator.requests(method="PUT", contains=run_id)
    assert [p["body"]["properties"]["forceUpdateTag"] for p in puts] == ["one", "two"]
    assert second["status"]["properties"]["forceUpdateTag"] == "two"
    assert second["status"]["properties"]["response"]["finishTime"]
    time.sleep(RESYNC_SECONDS + 2)
    assert len(bench.emulator.requests(method="PUT", contains=run_id)) == 2


# --- ConnectedRegistry -------------------------------------------------------------------

@pytest.fixture
def edge_bench(custom, api, namespace, operator, emulator) -> Bench:
    emulator.control("PUT", "config", {"lro": "recorded", "operationSeconds": 2, "retryAfter": 1})
    # A connected registry needs the dedicated data endpoint of its registry.
    return Bench(custom, api, namespace, emulator, dataEndpointEnabled=True)


def test_connected_registry_deactivates_on_request(edge_bench):
    bench = edge_bench
    bench.of("scopemaps").create(bench.child("ScopeMap", "syncscope", {"properties": {"actions": [
        "repositories/hello/content/read", "gateway/edge01/config/read",
        "gateway/edge01/config/write", "gateway/edge01/message/read",
        "gateway/edge01/message/write"]}}))
    bench.of("tokens").create(bench.child("Token", "synctoken", {"properties": {
        "scopeMapRef": {"name": "syncscope"}}}))
    edges = bench.of("connectedregistries")
    edges.create(bench.child("ConnectedRegistry", "edge01", {"properties": {
        "mode": "ReadOnly", "parent": {"syncProperties": {
            "tokenRef": {"name": "synctoken"}, "messageTtl": "P2D"}}}}))
    edge_id = edges.wait_condition("edge01", "Ready", timeout=120)["status"]["id"]
    # The on-premises instance connects: Azure marks it active and reports its details.
    reported = {
        "activation": {"status": "Active"}, "connectionState": "Online",
        "lastActivityTime": "2026-01-01T12:00:00Z", "version": "1.0",
        "loginServer": {"host": "edge.contoso.local", "tls": {"status": "Enabled"}},
        "statusDetails": [{"type": "connectivity", "code": "Healthy",
                           "description": "Synced", "timestamp": "2026-01-01T12:00:00Z",
                           "correlationId": "c1"}],
    }
    bench.emulator.control("PATCH", f"resources?id={edge_id}", {"properties": reported})

    def shown() -> dict | None:
        props = (edges.get("edge01").get("status") or {}).get("properties") or {}
        return props if props.get("connectionState") == "Online" else None

    props = wait_for(shown, timeout=3 * RESYNC_SECONDS + 10, what="the connection details")
    for key in ("activation", "lastActivityTime", "loginServer", "statusDetails"):
        assert props[key] == reported[key], key
    assert bench.posts("/deactivate") == []

    edges.patch("edge01", {"spec": {"deactivate": True}})

    def deactivated() -> dict | None:
        obj = edges.get("edge01")
        status = obj.get("status") or {}
        done = (status.get("deactivation") or {}).get("completedAt")
        ready = condition_of(obj, "Ready") or {}
        return obj if done and ready.get("status") == "True" else None

    obj = wait_for(deactivated, timeout=60, what="the deactivation to complete")
    assert obj["status"]["properties"]["activation"] == {"status": "Inactive"}
    assert len(bench.posts("/deactivate")) == 1
    time.sleep(RESYNC_SECONDS + 2)
    assert len(bench.posts("/deactivate")) == 1


# --- Webhook -----------------------------------------------------------------------------

def test_webhook_pings_once_per_token_and_shows_events_without_headers(bench):
    secret_uri = "https://hooks.example.com/acr?code=hook-secret-123"
    bench.core.create_namespaced_secret(bench.namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="hook"),
        string_data={"uri": secret_uri, "headers": json.dumps({"X-Key": "header-secret-456"})}))
    hooks = bench.of("webhooks")
    hooks.create(bench.child("Webhook", "hook01", {"location": "westus2", "ping": 1, "properties": {
        "serviceUriSecretRef": {"name": "hook", "key": "uri"},
        "customHeadersSecretRef": {"name": "hook", "key": "headers"},
        "actions": ["push"]}}))

    def pinged(token: str):
        def check():
            obj = hooks.get("hook01")
            status = obj.get("status") or {}
            if (status.get("lastPing") or {}).get("token") != token:
                return None
            return obj if status.get("recentEvents") else None
        return check

    obj = wait_for(pinged("1"), timeout=60, what="the first ping")
    last = obj["status"]["lastPing"]
    assert last["id"] and last["at"]
    assert len(bench.posts("/ping")) == 1
    (event,) = obj["status"]["recentEvents"]
    assert event["id"] == last["id"]
    assert event["action"] == "ping"
    assert set(event) <= {"id", "timestamp", "action", "target", "statusCode"}
    visible = json.dumps(obj["status"])
    assert "hook-secret-123" not in visible
    assert "header-secret-456" not in visible
    assert "headers" not in visible

    hooks.patch("hook01", {"spec": {"ping": "2"}})

    obj = wait_for(pinged("2"), timeout=60, what="the second ping")
    assert len(bench.posts("/ping")) == 2
    assert len(obj["status"]["recentEvents"]) == 2
    time.sleep(RESYNC_SECONDS + 2)
    assert len(bench.posts("/ping")) == 2
    assert bench.posts("/listEvents"), "the events were never listed"


# --- Registry ----------------------------------------------------------------------------

def test_registry_status_shows_usages_and_private_link_resources(bench):
    def with_usages() -> dict | None:
        obj = bench.registries.get("main")
        return obj if (obj.get("status") or {}).get("usages") else None

    obj = wait_for(with_usages, timeout=30, what="status.usages")

    usages = {u["name"]: u for u in obj["status"]["usages"]}
    assert {"Size", "Webhooks"} <= set(usages)
    assert set(usages["Webhooks"]) == {"name", "currentValue", "limit", "unit"}
    (link,) = obj["status"]["privateLinkResources"]
    assert link["groupId"] == "registry"
    assert "registry" in link["requiredMembers"]


# --- PrivateEndpointConnection -----------------------------------------------------------

def connection(bench: Bench, name: str, state: str) -> dict:
    return bench.child("PrivateEndpointConnection", name, {"properties": {
        "privateLinkServiceConnectionState": {"status": state, "description": f"{state} here"}}})


def stored_state(bench: Bench, name: str) -> str:
    stored = bench.emulator.resource(f"{bench.registry_id}/privateEndpointConnections/{name}")
    return stored["properties"]["privateLinkServiceConnectionState"]["status"]


def test_connection_is_approved_then_rejected(bench):
    bench.emulator.control("POST", "private-endpoint-connections", {
        "registryId": bench.registry_id, "name": "app", "privateEndpointId": ENDPOINT_ID})
    assert stored_state(bench, "app") == "Pending"
    connections = bench.of("privateendpointconnections")

    connections.create(connection(bench, "app", "Approved"))
    connections.wait_condition("app", "Ready")
    assert stored_state(bench, "app") == "Approved"

    connections.patch("app", {"spec": {"properties": {"privateLinkServiceConnectionState": {
        "status": "Rejected", "description": "Rejected here"}}}})
    connections.wait_condition("app", "Ready")

    assert stored_state(bench, "app") == "Rejected"
    puts = [e for e in bench.emulator.writes(bench.azure_name) if e["method"] == "PUT"
            and "/privateendpointconnections/" in e["path"].lower()]
    assert len(puts) == 2


def test_connection_not_requested_waits_for_the_endpoint(bench):
    connections = bench.of("privateendpointconnections")
    connections.create(connection(bench, "later", "Approved"))

    obj = connections.wait_condition("later", "Ready", "False")

    ready = condition_of(obj, "Ready")
    assert ready["reason"] == "ConnectionNotRequested"
    assert "private endpoint must request it first" in ready["message"]
    assert condition_of(obj, "Reconciling")["status"] == "True"
    assert [e for e in bench.emulator.writes(bench.azure_name)
            if "/privateendpointconnections/" in e["path"].lower()] == []

    bench.emulator.control("POST", "private-endpoint-connections", {
        "registryId": bench.registry_id, "name": "later", "privateEndpointId": ENDPOINT_ID})

    connections.wait_condition("later", "Ready", timeout=90)
    assert stored_state(bench, "later") == "Approved"
