"""Long-running operations in the three modes, driven by the manual clock."""

from __future__ import annotations

from acr_operator.emulator import lro
from tests.emulator.conftest import registry_path

SCOPE_MAP = {"properties": {"actions": ["repositories/hello/content/read"]}}


async def test_recorded_registry_create_is_synchronous(arm) -> None:
    answer = await arm.create_registry("myregistry1")
    assert answer.status == 200
    assert answer.header("Azure-AsyncOperation") is None
    assert answer.body["properties"]["provisioningState"] == "Succeeded"


async def test_recorded_child_create_polls_until_due(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    created = await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    assert created.status == 201
    assert created.body["properties"]["provisioningState"] == "Creating"
    url = created.header("Azure-AsyncOperation")
    assert "/scopeMaps/maps1/operationStatuses/scopemaps-" in url
    assert url.startswith(arm.base)
    assert url.endswith("?api-version=2025-06-01-preview")
    assert created.header("Retry-After") == "0"

    polled = await arm.get(url)
    assert (polled.status, polled.body) == (200, {"status": "Creating"})
    shown = await arm.get(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert shown.body["properties"]["provisioningState"] == "Creating"

    clock.advance(5)
    polled = await arm.get(url)
    assert polled.body == {"status": "Succeeded"}
    assert polled.header("Retry-After") is None
    shown = await arm.get(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert shown.body["properties"]["provisioningState"] == "Succeeded"


async def test_state_flips_without_polling(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    clock.advance(10)
    shown = await arm.get(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert shown.body["properties"]["provisioningState"] == "Succeeded"


async def test_recorded_update_is_synchronous(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    clock.advance(10)
    answer = await arm.patch(registry_path("myregistry1") + "/scopeMaps/maps1",
                             {"properties": {"description": "read only"}})
    assert answer.status == 200
    assert answer.body["properties"]["description"] == "read only"


async def test_recorded_delete_answers_location(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    answer = await arm.delete(registry_path("myregistry1"))
    assert answer.status == 202
    assert answer.body["properties"]["provisioningState"] == "Deleting"
    location = answer.header("Location")
    assert "/providers/Microsoft.ContainerRegistry/locations/westus2/operationResults/" in location
    assert (await arm.get(location)).status == 202
    clock.advance(5)
    done = await arm.get(location)
    assert (done.status, done.body) == (200, None)
    assert (await arm.get(registry_path("myregistry1"))).status == 404


async def test_child_delete_202_has_no_body(arm, clock) -> None:
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1")
    await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    await arm.configure(lro="recorded")
    answer = await arm.delete(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert (answer.status, answer.body) == (202, None)


async def test_sync_mode_answers_everything_at_once(arm) -> None:
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1")
    created = await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    assert created.status == 200
    assert created.body["properties"]["provisioningState"] == "Succeeded"
    deleted = await arm.delete(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert (deleted.status, deleted.header("Location")) == (200, None)


async def test_async_mode_polls_registry_writes(arm, clock) -> None:
    await arm.configure(lro="async")
    created = await arm.put(registry_path("myregistry1"),
                            {"location": "westus2", "sku": {"name": "Basic"}})
    assert created.status == 201
    assert created.body["properties"]["provisioningState"] == "Creating"
    assert "/registries/myregistry1/operationStatuses/registries-" in created.header(
        "Azure-AsyncOperation")
    clock.advance(5)
    updated = await arm.patch(registry_path("myregistry1"), {"tags": {"a": "b"}})
    assert updated.status == 201
    assert updated.body["properties"]["provisioningState"] == "Updating"
    replaced = await (arm.put(registry_path("myregistry1"),
                              {"location": "westus2", "sku": {"name": "Basic"}}))
    assert replaced.status == 409
    clock.advance(5)
    replaced = await arm.put(registry_path("myregistry1"),
                             {"location": "westus2", "sku": {"name": "Basic"}})
    assert replaced.status == 200
    assert replaced.header("Azure-AsyncOperation")


async def test_failed_operation_reports_error_and_state(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    fault = {"match": {"operationId": "ScopeMaps_Create"}, "operationStatus": "Failed",
             "body": {"error": {"code": "InternalError", "message": "broken disk"}}}
    assert (await arm.control("POST", "faults", fault)).status == 201
    created = await arm.put(registry_path("myregistry1") + "/scopeMaps/maps1", SCOPE_MAP)
    assert created.status == 201
    clock.advance(5)
    polled = await arm.get(created.header("Azure-AsyncOperation"))
    assert polled.body == {"status": "Failed",
                           "error": {"code": "InternalError", "message": "broken disk"}}
    shown = await arm.get(registry_path("myregistry1") + "/scopeMaps/maps1")
    assert shown.body["properties"]["provisioningState"] == "Failed"
    assert (await arm.control("GET", "faults")).body == []


async def test_failed_location_operation_answers_the_error_status(arm, clock) -> None:
    await arm.create_registry("myregistry1")
    await arm.control("POST", "faults", {"operationStatus": "Failed", "status": 409})
    answer = await arm.delete(registry_path("myregistry1"))
    clock.advance(5)
    polled = await arm.get(answer.header("Location"))
    assert polled.status == 409
    assert polled.body["error"]["code"] == "InternalServerError"
    shown = await arm.get(registry_path("myregistry1"))
    assert shown.body["properties"]["provisioningState"] == "Failed"


async def test_unknown_operation_poll_is_not_found(arm) -> None:
    answer = await arm.get(registry_path("myregistry1") + "/operationStatuses/registries-nope")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "OperationNotFound"


def test_choose_style_follows_the_recordings() -> None:
    registry = "Microsoft.ContainerRegistry/registries"
    child = "Microsoft.ContainerRegistry/registries/replications"
    assert lro.choose_style("recorded", "create", registry, True) == lro.SYNC
    assert lro.choose_style("recorded", "create", child, True) == lro.ASYNC_OPERATION
    assert lro.choose_style("recorded", "replace", child, True) == lro.SYNC
    assert lro.choose_style("recorded", "delete", registry, True) == lro.LOCATION
    assert lro.choose_style("async", "update", registry, True) == lro.ASYNC_OPERATION
    assert lro.choose_style("sync", "delete", registry, True) == lro.SYNC
    assert lro.choose_style("async", "update", child, False) == lro.SYNC
