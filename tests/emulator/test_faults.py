"""Injected faults: error responses with headers, dropped connections, counts and matching."""

from __future__ import annotations

import aiohttp
import pytest

from tests.emulator.conftest import registry_path


async def test_throttling_answers_once_then_serves(arm) -> None:
    await arm.create_registry("myregistry1")
    fault = {"match": {"method": "GET", "operationId": "Registries_Get"}, "count": 1,
             "status": 429, "headers": {"Retry-After": "5"}}
    assert (await arm.control("POST", "faults", fault)).status == 201

    throttled = await arm.get(registry_path("myregistry1"))
    served = await arm.get(registry_path("myregistry1"))

    assert throttled.status == 429
    assert throttled.header("Retry-After") == "5"
    assert throttled.body["error"]["code"] == "TooManyRequests"
    assert served.status == 200
    log = (await arm.control("GET", "requests")).body
    assert [e["status"] for e in log[-2:]] == [429, 200]


async def test_faulted_write_has_no_effect(arm) -> None:
    await arm.control("POST", "faults", {"match": {"method": "PUT"}, "status": 503})
    answer = await arm.put(registry_path("myregistry1"),
                           {"location": "westus2", "sku": {"name": "Basic"}})
    assert answer.status == 503
    assert answer.body["error"]["code"] == "ServiceUnavailable"
    assert (await arm.get(registry_path("myregistry1"))).status == 404


async def test_fault_body_and_path_match(arm) -> None:
    await arm.create_registry("myregistry1")
    await arm.create_registry("otherregistry1")
    await arm.control("POST", "faults", {
        "match": {"pathContains": "/registries/OTHERregistry1"}, "count": None, "status": 500,
        "body": {"error": {"code": "Custom", "message": "custom"}}})
    for _ in range(3):
        answer = await arm.get(registry_path("otherregistry1"))
        assert (answer.status, answer.body["error"]["code"]) == (500, "Custom")
    assert (await arm.get(registry_path("myregistry1"))).status == 200
    assert len((await arm.control("GET", "faults")).body) == 1
    assert (await arm.control("DELETE", "faults")).status == 204
    assert (await arm.get(registry_path("otherregistry1"))).status == 200


async def test_drop_closes_the_connection(arm, emulator) -> None:
    await arm.create_registry("myregistry1")
    # aiohttp retries an idempotent request once on a fresh connection, so drop twice.
    await arm.control("POST", "faults", {"match": {"method": "GET"}, "count": 2, "drop": True})
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await arm.get(registry_path("myregistry1"))
    assert (await arm.get(registry_path("myregistry1"))).status == 200
    dropped = [e for e in emulator.emulator.log.list() if e["status"] is None]
    assert len(dropped) == 2


@pytest.mark.parametrize("fault", [
    {"status": 200},
    {"drop": True, "status": 500},
    {"count": 0, "status": 500},
    {"operationStatus": "Maybe"},
    {},
    {"status": 500, "body": "text"},
])
async def test_bad_faults_are_rejected(arm, fault) -> None:
    answer = await arm.control("POST", "faults", fault)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidControlRequest"
