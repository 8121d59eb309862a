"""The control API: configuration, resources seen and changed behind ARM's back, reset."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import registry_path


async def test_config_reads_and_merges(arm) -> None:
    assert (await arm.control("GET", "config")).body == {
        "lro": "recorded", "operationSeconds": 5.0, "retryAfter": 0, "pageSize": 100}
    answer = await arm.control("PUT", "config", {"lro": "async", "retryAfter": 3})
    assert answer.body == {"lro": "async", "operationSeconds": 5.0, "retryAfter": 3,
                           "pageSize": 100}


@pytest.mark.parametrize("change", [
    {"lro": "later"}, {"operationSeconds": -1}, {"retryAfter": 1.5}, {"pageSize": 0},
    {"colour": "blue"}, {"retryAfter": True},
])
async def test_bad_config_is_rejected_whole(arm, change) -> None:
    answer = await arm.control("PUT", "config", {"lro": "sync", **change})
    assert answer.status == 400
    assert (await arm.control("GET", "config")).body["lro"] == "recorded"


async def test_config_body_must_be_an_object(arm) -> None:
    answer = await arm.control("PUT", "config", ["sync"])
    assert answer.status == 400


async def test_resources_are_keyed_by_id(arm) -> None:
    await arm.create_registry("myRegistry1")
    resources = (await arm.control("GET", "resources")).body
    assert list(resources) == [registry_path("myRegistry1")]
    assert resources[registry_path("myRegistry1")]["name"] == "myRegistry1"


async def test_patch_changes_a_resource_without_logging(arm) -> None:
    await arm.create_registry("myregistry1")
    answer = await arm.control("PATCH", "resources",
                               {"tags": {"drift": "yes"}, "properties": {"adminUserEnabled": True},
                                "id": "/elsewhere"},
                               query={"id": registry_path("MYREGISTRY1")})
    assert answer.status == 200
    assert answer.body["id"] == registry_path("myregistry1")
    shown = await arm.get(registry_path("myregistry1"))
    assert shown.body["tags"] == {"drift": "yes"}
    assert shown.body["properties"]["adminUserEnabled"] is True
    assert shown.body["properties"]["policies"]["exportPolicy"] == {"status": "enabled"}
    operations = [e["operationId"] for e in (await arm.control("GET", "requests")).body]
    assert operations == ["Registries_Create", "Registries_Get"]


async def test_patch_of_unknown_id_is_404(arm) -> None:
    answer = await arm.control("PATCH", "resources", {}, query={"id": registry_path("nope12")})
    assert answer.status == 404


async def test_reset_keeps_only_config(arm) -> None:
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1")
    await arm.control("POST", "faults", {"status": 500, "match": {"method": "DELETE"}})
    assert (await arm.control("POST", "reset")).status == 204
    assert (await arm.control("GET", "resources")).body == {}
    assert (await arm.control("GET", "requests")).body == []
    assert (await arm.control("GET", "faults")).body == []
    assert (await arm.control("GET", "config")).body["lro"] == "sync"


async def test_private_endpoint_connection_needs_a_registry(arm) -> None:
    answer = await arm.control("POST", "private-endpoint-connections", {
        "registryId": registry_path("nope12"), "privateEndpointId": "/x"})
    assert answer.status == 404
    await arm.create_registry("myregistry1")
    missing = await arm.control("POST", "private-endpoint-connections",
                                {"registryId": registry_path("myregistry1")})
    assert missing.status == 400
    named = await arm.control("POST", "private-endpoint-connections", {
        "registryId": registry_path("myregistry1"),
        "privateEndpointId": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/"
                             "privateEndpoints/pe1"})
    assert named.status == 201
    assert named.body["name"].startswith("pe1.")
    listed = await arm.get(registry_path("myregistry1") + "/privateEndpointConnections")
    assert [c["name"] for c in listed.body["value"]] == [named.body["name"]]


async def test_credential_check_needs_all_fields(arm) -> None:
    answer = await arm.control("POST", "credential-check", {"registry": "r"})
    assert answer.status == 400
    unknown = await arm.control("POST", "credential-check",
                                {"registry": "nope", "username": "u", "password": "p"})
    assert unknown.body == {"valid": False}
