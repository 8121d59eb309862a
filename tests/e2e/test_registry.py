"""Registry end to end: the real API server, the operator process and the emulator."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client

from tests.e2e.conftest import RESYNC_SECONDS, wait_for
from tests.e2e.kinds import (
    Resources,
    condition_of,
    registry_arm_id,
    registry_manifest,
    request_time,
    unique_name,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def registries(custom, namespace, operator, emulator):
    emulator.control("PUT", "config", {"lro": "recorded", "operationSeconds": 2, "retryAfter": 1})
    return Resources(custom, namespace, "registries")


def test_registry_create_ready(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("main", azure_name=azure_name, tags={"team": "a"}))

    obj = registries.wait_condition("main", "Ready")

    status = obj["status"]
    assert status["id"].lower() == registry_arm_id(azure_name).lower()
    assert status["properties"]["loginServer"] == f"{azure_name}.azurecr.io"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert status["provisioningState"] == "Succeeded"
    assert condition_of(obj, "Reconciling")["status"] == "False"
    assert condition_of(obj, "Stalled")["status"] == "False"
    assert "operation" not in status
    assert len(emulator.writes(azure_name)) == 1


def test_registry_update_sends_one_patch(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("upd", azure_name=azure_name, tags={"team": "a"}))
    registries.wait_condition("upd", "Ready")
    before = len(emulator.requests(contains=azure_name))

    registries.patch("upd", {"spec": {"tags": {"team": "b"}, "properties": {"adminUserEnabled": True}}})
    obj = registries.wait_condition("upd", "Ready")

    new_writes = [e for e in emulator.requests(contains=azure_name)[before:]
                  if e["method"] in ("PUT", "PATCH", "DELETE")]
    assert [e["method"] for e in new_writes] == ["PATCH"]
    assert new_writes[0]["body"]["tags"] == {"team": "b"}
    assert new_writes[0]["body"]["properties"]["adminUserEnabled"] is True
    stored = emulator.resource(registry_arm_id(azure_name))
    assert stored["tags"] == {"team": "b"}
    assert stored["properties"]["adminUserEnabled"] is True
    assert obj["status"]["properties"]["adminUserEnabled"] is True


def test_registry_resync_without_drift_writes_nothing(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("calm", azure_name=azure_name))
    registries.wait_condition("calm", "Ready")
    before = len(emulator.requests(contains=azure_name))

    # Two resync intervals: the operator reads the registry at least once and writes nothing.
    time.sleep(2 * RESYNC_SECONDS + 2)

    later = emulator.requests(contains=azure_name)[before:]
    assert any(e["method"] == "GET" for e in later), "no resync GET was sent"
    assert [e for e in later if e["method"] != "GET"] == []


def test_registry_drift_corrected_on_resync(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("drift", azure_name=azure_name,
                                        properties={"adminUserEnabled": False}))
    registries.wait_condition("drift", "Ready")
    arm_id = registry_arm_id(azure_name)

    emulator.control("PATCH", f"resources?id={arm_id}", {"properties": {"adminUserEnabled": True}})

    wait_for(lambda: emulator.resource(arm_id)["properties"]["adminUserEnabled"] is False,
             timeout=3 * RESYNC_SECONDS + 10, what="the drift to be corrected")
    patches = emulator.requests(method="PATCH", contains=azure_name)
    assert len(patches) == 1
    assert patches[0]["body"]["properties"] == {"adminUserEnabled": False}


def test_registry_delete_waits_for_arm(registries, emulator):
    emulator.control("PUT", "config", {"lro": "recorded", "operationSeconds": 4, "retryAfter": 1})
    azure_name = unique_name()
    registries.create(registry_manifest("gone", azure_name=azure_name))
    registries.wait_condition("gone", "Ready")

    registries.delete("gone")

    # While ARM's delete runs, the object stays, held by the finalizer.
    wait_for(lambda: emulator.requests(method="DELETE", contains=azure_name), timeout=30,
             what="the DELETE request")
    held = registries.get("gone")
    assert held is not None
    assert held["metadata"].get("deletionTimestamp")
    registries.wait_gone("gone", timeout=60)
    assert emulator.resource(registry_arm_id(azure_name)) is None
    assert len(emulator.requests(method="DELETE", contains=azure_name)) == 1


def test_registry_restart_polls_saved_operation(registries, emulator, operator):
    emulator.control("PUT", "config", {"lro": "async", "operationSeconds": 10, "retryAfter": 1})
    azure_name = unique_name()
    registries.create(registry_manifest("crash", azure_name=azure_name))
    wait_for(lambda: (registries.get("crash").get("status") or {}).get("operation"),
             timeout=30, what="status.operation to be saved")

    operator.kill()
    operator.start()

    obj = registries.wait_condition("crash", "Ready", timeout=90)
    assert obj["status"]["id"].lower() == registry_arm_id(azure_name).lower()
    puts = emulator.requests(method="PUT", contains=azure_name)
    assert len(puts) == 1, f"expected one PUT, got {len(puts)}"
    polls = [e for e in emulator.requests(method="GET", contains="operationStatuses")]
    assert polls, "the restarted operator did not poll the saved operation"


def test_registry_name_without_azure_name_rejected(registries):
    with pytest.raises(client.ApiException) as raised:
        registries.create(registry_manifest("my-registry"))
    assert raised.value.status == 422
    assert "azureName" in raised.value.body


def test_registry_unknown_sku_rejected(registries):
    with pytest.raises(client.ApiException) as raised:
        registries.create(registry_manifest("gold", azure_name=unique_name(), sku="Gold"))
    assert raised.value.status == 422
    assert "sku.name" in raised.value.body
    assert "Gold" in raised.value.body


def test_registry_location_change_rejected(registries):
    registries.create(registry_manifest("move", azure_name=unique_name()))
    with pytest.raises(client.ApiException) as raised:
        registries.patch("move", {"spec": {"location": "eastus"}})
    assert raised.value.status == 422
    assert "location" in raised.value.body


def test_registry_arm_user_error_stalls(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("basic", azure_name=azure_name, sku="Basic",
                                        properties={"dataEndpointEnabled": True}))

    obj = registries.wait_condition("basic", "Stalled")

    ready = condition_of(obj, "Ready")
    assert ready["status"] == "False"
    put = emulator.requests(method="PUT", contains=azure_name)
    assert len(put) == 1
    assert put[0]["status"] == 400
    assert ready["reason"] == put[0]["errorCode"]
    assert ready["reason"] == "DataEndpointNotSupported"
    assert ready["message"]
    time.sleep(2 * RESYNC_SECONDS + 2)
    assert len(emulator.requests(method="PUT", contains=azure_name)) == 1

    # A spec change is a new request: the operator tries again.
    registries.patch("basic", {"spec": {"sku": {"name": "Premium"}}})
    registries.wait_condition("basic", "Ready")
    assert len(emulator.requests(method="PUT", contains=azure_name)) == 2


def test_registry_throttled_waits_retry_after(registries, emulator):
    azure_name = unique_name()
    emulator.control("POST", "faults", {
        "match": {"method": "PUT", "pathContains": azure_name}, "count": 1,
        "status": 429, "headers": {"Retry-After": "5"},
        "body": {"error": {"code": "TooManyRequests", "message": "throttled by the emulator"}},
    })
    registries.create(registry_manifest("slow", azure_name=azure_name))

    registries.wait_condition("slow", "Ready", timeout=60)

    entries = emulator.requests(contains=azure_name)
    throttled = [e for e in entries if e["status"] == 429]
    assert len(throttled) == 1
    after = [e for e in entries if e["seq"] > throttled[0]["seq"]]
    assert after, "no request followed the 429"
    assert request_time(after[0]) - request_time(throttled[0]) >= 5


def test_registry_never_created_releases_finalizer(registries, emulator):
    azure_name = unique_name()
    registries.create(registry_manifest("never", azure_name=azure_name, sku="Basic",
                                        properties={"dataEndpointEnabled": True}))
    registries.wait_condition("never", "Stalled")

    registries.delete("never")

    registries.wait_gone("never", timeout=15)
    assert emulator.requests(method="DELETE", contains=azure_name) == []


def test_registry_name_not_available(registries, emulator, custom, namespace):
    azure_name = unique_name()
    registries.create(registry_manifest("first", azure_name=azure_name, resource_group="rg-a"))
    registries.wait_condition("first", "Ready")

    registries.create(registry_manifest("second", azure_name=azure_name, resource_group="rg-b"))
    obj = registries.wait_condition("second", "Ready", status="False")

    ready = condition_of(obj, "Ready")
    assert ready["reason"] == "AlreadyExists"
    assert azure_name in ready["message"] or "already" in ready["message"].lower()
    puts = emulator.requests(method="PUT", contains=f"rg-b/providers/Microsoft.ContainerRegistry/registries/{azure_name}")
    assert puts == []


def test_registry_duplicate_arm_id_stalls(registries, emulator, custom, api):
    azure_name = unique_name()
    arm_id = registry_arm_id(azure_name)
    registries.create(registry_manifest("owner", azure_name=azure_name))
    registries.wait_condition("owner", "Ready")
    puts = len(emulator.requests(method="PUT", contains=azure_name))

    core = client.CoreV1Api(api)
    other = f"e2e-{unique_name('dup')}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        duplicates = Resources(custom, other, "registries")
        duplicates.create(registry_manifest("copy", azure_name=azure_name))
        obj = duplicates.wait_condition("copy", "Stalled")

        ready = condition_of(obj, "Ready")
        assert ready["status"] == "False"
        assert ready["reason"] == "AzureResourceClaimed"
        assert f"Registry {registries.namespace}/owner already manages" in ready["message"]
        assert "id" not in obj["status"]
        assert len(emulator.requests(method="PUT", contains=azure_name)) == puts

        duplicates.delete("copy")
        duplicates.wait_gone("copy", timeout=15)
    finally:
        core.delete_namespace(other)

    assert emulator.requests(method="DELETE", contains=azure_name) == []
    assert emulator.resource(arm_id) is not None
    time.sleep(RESYNC_SECONDS + 2)  # a resync of the owner, which must still find its registry
    assert condition_of(registries.get("owner"), "Ready")["status"] == "True"
    assert emulator.resource(arm_id) is not None


@pytest.mark.parametrize("lro", ["sync", "async"])
def test_registry_quick_delete_leaves_nothing(registries, emulator, lro):
    # Deletes that race the operator's first step must not leave a registry in Azure:
    # the operator's copy of an object can be older than its deletion.
    emulator.control("PUT", "config", {"lro": lro, "operationSeconds": 3, "retryAfter": 1})
    registries.create(registry_manifest("warmup", azure_name=unique_name()))
    registries.wait_condition("warmup", "Ready")
    delays = [0.0] * 6 + [0.01, 0.02, 0.03, 0.04, 0.06, 0.08]
    azure_names = {f"quick{i}": unique_name() for i in range(len(delays))}

    def create_then_delete(name: str, delay: float) -> None:
        registries.create(registry_manifest(name, azure_name=azure_names[name]))
        time.sleep(delay)
        registries.delete(name)

    threads = [threading.Thread(target=create_then_delete, args=(name, delay))
               for name, delay in zip(azure_names, delays, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in azure_names:
        registries.wait_gone(name, timeout=120)
    # A worker that missed the delete would write within a poll interval or two.
    time.sleep(4)

    left = [azure for azure in azure_names.values()
            if emulator.resource(registry_arm_id(azure)) is not None]
    assert left == []
