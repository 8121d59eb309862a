"""Actions: credentials, usages, private link resources, import, webhook calls, deactivate."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import SUBSCRIPTION, registry_path

REGISTRY = registry_path("myregistry1")
TOKEN = REGISTRY + "/tokens/token1"


@pytest.fixture
async def registry(arm):
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1", adminUserEnabled=True)
    await arm.configure(lro="recorded")
    return arm


async def test_admin_passwords_regenerate_singly(registry) -> None:
    arm = registry
    first = await arm.post(REGISTRY + "/listCredentials")
    assert first.status == 200
    assert first.body["username"] == "myregistry1"
    names = [p["name"] for p in first.body["passwords"]]
    assert names == ["password", "password2"]
    assert (await arm.post(REGISTRY + "/listCredentials")).body == first.body
    regenerated = await arm.post(REGISTRY + "/regenerateCredential", {"name": "password2"})
    old, new = first.body["passwords"], regenerated.body["passwords"]
    assert new[0]["value"] == old[0]["value"]
    assert new[1]["value"] != old[1]["value"]
    check = await arm.control("POST", "credential-check", {
        "registry": "myregistry1.azurecr.io", "username": "myregistry1",
        "password": new[1]["value"]})
    assert check.body == {"valid": True}
    stale = await arm.control("POST", "credential-check", {
        "registry": "myregistry1", "username": "myregistry1", "password": old[1]["value"]})
    assert stale.body == {"valid": False}


async def test_admin_credentials_need_the_admin_user(registry) -> None:
    arm = registry
    await arm.patch(REGISTRY, {"properties": {"adminUserEnabled": False}})
    answer = await arm.post(REGISTRY + "/listCredentials")
    assert answer.status == 400
    assert answer.body["error"]["code"] == "AdminUserDisabled"
    wrong = await arm.post(REGISTRY + "/regenerateCredential", {"name": "password1"})
    assert wrong.status == 400


async def test_generate_credentials_is_a_location_operation(registry, clock) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_pull"}})
    await arm.configure(lro="recorded")
    answer = await arm.post(REGISTRY + "/generateCredentials", {
        "tokenId": TOKEN, "name": "password1", "expiry": "2099-01-01T00:00:00Z"})
    assert answer.status == 202
    assert (await arm.get(answer.header("Location"))).status == 202
    clock.advance(5)
    result = await arm.get(answer.header("Location"))
    assert result.status == 200
    assert result.body["username"] == "token1"
    [password] = result.body["passwords"]
    assert password["name"] == "password1"
    assert password["value"]
    token = await arm.get(TOKEN)
    [shown] = token.body["properties"]["credentials"]["passwords"]
    assert shown["name"] == "password1"
    assert "value" not in shown
    check = await arm.control("POST", "credential-check", {
        "registry": "MyRegistry1", "username": "token1", "password": password["value"]})
    assert check.body == {"valid": True}
    await arm.patch(TOKEN, {"properties": {"status": "disabled"}})
    check = await arm.control("POST", "credential-check", {
        "registry": "myregistry1", "username": "token1", "password": password["value"]})
    assert check.body == {"valid": False}


async def test_expired_token_passwords_are_refused(registry, clock) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_pull"}})
    result = await arm.post(REGISTRY + "/generateCredentials",
                            {"tokenId": TOKEN, "expiry": "2000-01-01T00:00:00Z"})
    assert len(result.body["passwords"]) == 2
    check = await arm.control("POST", "credential-check", {
        "registry": "myregistry1", "username": "token1",
        "password": result.body["passwords"][0]["value"]})
    assert check.body == {"valid": False}


async def test_generate_credentials_needs_an_existing_token(registry) -> None:
    answer = await registry.post(REGISTRY + "/generateCredentials", {"tokenId": TOKEN})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "TokenNotFound"


async def test_import_records_tags_after_the_operation(registry, clock) -> None:
    arm = registry
    answer = await arm.post(REGISTRY + "/importImage", {
        "source": {"registryUri": "docker.io", "sourceImage": "library/hello-world:latest"},
        "targetTags": ["hello:v1", "hello:latest"]})
    assert answer.status == 202
    images = await arm.control("GET", "images", query={"registryId": REGISTRY})
    assert images.body == {}
    clock.advance(5)
    assert (await arm.get(answer.header("Location"))).status == 200
    images = (await arm.control("GET", "images", query={"registryId": REGISTRY})).body
    assert set(images["hello"]["tags"]) == {"v1", "latest"}


async def test_import_refuses_to_overwrite_a_tag_unless_forced(registry) -> None:
    arm = registry
    await arm.configure(lro="sync")
    first = {"source": {"registryUri": "docker.io", "sourceImage": "library/a:1"},
             "targetTags": ["app:stable"]}
    assert (await arm.post(REGISTRY + "/importImage", first)).status == 200
    other = {"source": {"registryUri": "docker.io", "sourceImage": "library/b:1"},
             "targetTags": ["app:stable"]}
    refused = await arm.post(REGISTRY + "/importImage", other)
    assert refused.status == 409
    forced = await arm.post(REGISTRY + "/importImage", {**other, "mode": "Force"})
    assert forced.status == 200


@pytest.mark.parametrize(("source", "target"), [
    ({"sourceImage": "a:1"}, "source"),
    ({"resourceId": registry_path("nosuchregistry"), "sourceImage": "a:1"}, "source.resourceId"),
    ({"registryUri": "docker.io", "sourceImage": "UPPER CASE"}, "source.sourceImage"),
])
async def test_import_validates_the_source(registry, source, target) -> None:
    answer = await registry.post(REGISTRY + "/importImage", {"source": source})
    assert answer.status == 400
    assert answer.body["error"]["target"] == target


async def test_import_from_another_registry(registry) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.create_registry("sourceregistry1", group="other")
    answer = await arm.post(REGISTRY + "/importImage", {"source": {
        "resourceId": registry_path("sourceregistry1", group="other"),
        "sourceImage": "base@sha256:" + "ab" * 32}, "untaggedTargetRepositories": ["base"]})
    assert answer.status == 200
    images = (await arm.control("GET", "images", query={"registryId": REGISTRY})).body
    assert images["base"]["untagged"] == ["sha256:" + "ab" * 32]


async def test_ping_and_list_events_with_paging(registry) -> None:
    arm = registry
    await arm.configure(lro="sync", pageSize=2)
    hook = REGISTRY + "/webhooks/hook1"
    await arm.put(hook, {"location": "westus2", "properties": {
        "serviceUri": "https://hooks.example.com", "customHeaders": {"X-Key": "k"},
        "actions": ["push"]}})
    ids = [(await arm.post(hook + "/ping")).body["id"] for _ in range(3)]
    page = await arm.post(hook + "/listEvents")
    assert [e["id"] for e in page.body["value"]] == ids[::-1][:2]
    event = page.body["value"][0]["eventRequestMessage"]
    assert event["headers"]["X-Key"] == "******"
    assert event["requestUri"] == "https://hooks.example.com"
    # The SDK fetches the next page of a POST list with GET.
    rest = await arm.get(page.body["nextLink"])
    assert [e["id"] for e in rest.body["value"]] == [ids[0]]
    assert "nextLink" not in rest.body


async def test_usages_count_resources(registry) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.put(REGISTRY + "/webhooks/hook1", {"location": "westus2", "properties": {
        "serviceUri": "https://h.example", "actions": ["push"]}})
    usages = {u["name"]: u for u in (await arm.get(REGISTRY + "/listUsages")).body["value"]}
    assert usages["Webhooks"]["currentValue"] == 1
    assert usages["Webhooks"]["limit"] == 500
    assert usages["Size"]["unit"] == "Bytes"


async def test_private_link_resources(registry) -> None:
    arm = registry
    listed = await arm.get(REGISTRY + "/privateLinkResources")
    [resource] = listed.body["value"]
    assert resource["properties"]["groupId"] == "registry"
    assert resource["properties"]["requiredMembers"] == ["registry", "registry_data_westus2"]
    assert (await arm.get(REGISTRY + "/privateLinkResources/registry")).body == resource
    assert (await arm.get(REGISTRY + "/privateLinkResources/other")).status == 404


async def test_deactivate_connected_registry(registry, clock) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.patch(REGISTRY, {"properties": {"dataEndpointEnabled": True}})
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_admin"}})
    edge = REGISTRY + "/connectedRegistries/edge1"
    await arm.put(edge, {"properties": {"mode": "ReadWrite", "parent": {"syncProperties": {
        "tokenId": TOKEN, "messageTtl": "P1D"}}}})
    await arm.control("PATCH", "resources", {"properties": {"activation": {"status": "Active"}}},
                      query={"id": edge})
    await arm.configure(lro="recorded")
    answer = await arm.post(edge + "/deactivate")
    assert answer.status == 202
    clock.advance(5)
    assert (await arm.get(answer.header("Location"))).status == 200
    shown = await arm.get(edge)
    assert shown.body["properties"]["activation"] == {"status": "Inactive"}


async def test_connected_registry_update_moves_sync_properties(registry) -> None:
    arm = registry
    await arm.configure(lro="sync")
    await arm.patch(REGISTRY, {"properties": {"dataEndpointEnabled": True}})
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_admin"}})
    edge = REGISTRY + "/connectedRegistries/edge1"
    await arm.put(edge, {"properties": {"mode": "ReadOnly", "parent": {"syncProperties": {
        "tokenId": TOKEN, "messageTtl": "P1D"}}}})
    updated = await arm.patch(edge, {"properties": {"syncProperties": {"messageTtl": "P2D"}}})
    sync = updated.body["properties"]["parent"]["syncProperties"]
    assert sync == {"tokenId": TOKEN, "messageTtl": "P2D"}
    assert "syncProperties" not in updated.body["properties"]


async def test_operations_list_covers_the_resource_types(arm) -> None:
    answer = await arm.get("/providers/Microsoft.ContainerRegistry/operations")
    names = {o["name"] for o in answer.body["value"]}
    for name in ("Microsoft.ContainerRegistry/registries/read",
                 "Microsoft.ContainerRegistry/registries/write",
                 "Microsoft.ContainerRegistry/registries/delete",
                 "Microsoft.ContainerRegistry/registries/replications/write",
                 "Microsoft.ContainerRegistry/registries/webhooks/ping/action",
                 "Microsoft.ContainerRegistry/registries/importImage/action",
                 "Microsoft.ContainerRegistry/checkNameAvailability/action"):
        assert name in names, name
    assert all(o["display"]["description"] for o in answer.body["value"])


async def test_operations_need_no_subscription(arm) -> None:
    answer = await arm.post(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/"
                            "checkNameAvailability",
                            {"name": "somename1", "type": "Microsoft.ContainerRegistry/registries"})
    assert answer.status == 200
