"""The checks every ARM request passes: token, api-version, routing, path names and body."""

from __future__ import annotations

from tests.emulator.conftest import PROVIDER, registry_path


async def test_missing_token_is_rejected(arm) -> None:
    arm.token = None
    answer = await arm.get(registry_path("myregistry1"))
    assert answer.status == 401
    assert answer.body["error"]["code"] == "AuthenticationFailed"
    assert answer.header("WWW-Authenticate").startswith("Bearer ")


async def test_fixed_token_rejects_others(arm, emulator) -> None:
    emulator.emulator.options.token = "the-one"
    answer = await arm.get(registry_path("myregistry1"))
    assert answer.status == 401
    assert answer.body["error"]["code"] == "InvalidAuthenticationToken"
    arm.token = "the-one"
    assert (await arm.get(registry_path("myregistry1"))).status == 404


async def test_non_bearer_authorization_is_rejected(arm) -> None:
    answer = await arm.get(registry_path("myregistry1"), headers={"Authorization": "Basic eDp5"})
    assert answer.status == 401
    assert answer.body["error"]["code"] == "AuthenticationFailed"


async def test_api_version_is_required(arm) -> None:
    answer = await arm.get(registry_path("myregistry1"), api_version=None)
    assert answer.status == 400
    assert answer.body["error"]["code"] == "MissingApiVersionParameter"


async def test_other_api_versions_are_rejected(arm) -> None:
    answer = await arm.get(registry_path("myregistry1"), api_version="2023-07-01")
    assert answer.status == 400
    assert answer.body["error"]["code"] == "NoRegisteredProviderFound"
    assert "2025-06-01-preview" in answer.body["error"]["message"]
    answer = await arm.get(registry_path("myregistry1"), api_version="latest")
    assert answer.body["error"]["code"] == "InvalidApiVersionParameter"


async def test_unknown_type_and_method(arm) -> None:
    answer = await arm.get(f"{PROVIDER}/gadgets/thing")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "InvalidResourceType"
    answer = await arm.patch(f"{registry_path('myregistry1')}/exportPipelines/pipeline1", {})
    assert answer.status == 405
    assert "PUT" in answer.header("Allow")


async def test_invalid_registry_name_is_rejected(arm) -> None:
    answer = await arm.put(registry_path("my-registry"), {"location": "westus", "sku": {"name": "Basic"}})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidResourceName"
    assert answer.body["error"]["target"] == "registryName"
    short = await arm.put(registry_path("abc"), {"location": "westus", "sku": {"name": "Basic"}})
    assert "at least 5" in short.body["error"]["message"]


async def test_invalid_subscription_id_is_rejected(arm) -> None:
    answer = await arm.get("/subscriptions/not-a-guid/resourceGroups/rg/providers/"
                           "Microsoft.ContainerRegistry/registries/myregistry1")
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidSubscriptionId"


async def test_body_errors_name_field_and_value(arm) -> None:
    answer = await arm.put(registry_path("myregistry1"),
                           {"location": "westus", "sku": {"name": "Gold"}})
    assert answer.status == 400
    error = answer.body["error"]
    assert error["code"] == "InvalidParameter"
    assert error["target"] == "sku.name"
    assert '"Gold"' in error["message"]


async def test_wrong_type_is_invalid_request_content(arm) -> None:
    answer = await arm.put(registry_path("myregistry1"), {
        "location": "westus", "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": "yes"}})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidRequestContent"
    assert answer.body["error"]["target"] == "properties.adminUserEnabled"


async def test_missing_location_is_location_required(arm) -> None:
    answer = await arm.put(registry_path("myregistry1"), {"sku": {"name": "Basic"}})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "LocationRequired"


async def test_several_errors_are_listed_in_details(arm) -> None:
    answer = await arm.put(registry_path("myregistry1"), {"sku": {"name": "Gold"}})
    assert answer.status == 400
    assert len(answer.body["error"]["details"]) == 2


async def test_malformed_json_is_invalid_request_content(arm) -> None:
    answer = await arm.request("PUT", registry_path("myregistry1"), raw=b"{nope",
                               headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.body["error"]["code"] == "InvalidRequestContent"


async def test_read_only_fields_are_ignored(arm) -> None:
    answer = await arm.put(registry_path("myregistry1"), {
        "id": "/elsewhere", "name": "other", "type": "Microsoft.Foo/bars",
        "location": "westus", "sku": {"name": "Basic", "tier": "Premium"},
        "properties": {"loginServer": "evil.example.com", "provisioningState": "Failed"}})
    assert answer.status == 200, answer.body
    assert answer.body["name"] == "myregistry1"
    assert answer.body["sku"] == {"name": "Basic", "tier": "Basic"}
    assert answer.body["properties"]["loginServer"] == "myregistry1.azurecr.io"
    assert answer.body["properties"]["provisioningState"] == "Succeeded"


async def test_names_and_path_literals_compare_case_insensitively(arm) -> None:
    await arm.create_registry("myRegistry1")
    path = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG1/PROVIDERS/"
            "microsoft.containerregistry/REGISTRIES/MYREGISTRY1")
    answer = await arm.get(path)
    assert answer.status == 200
    assert answer.body["id"] == registry_path("myRegistry1")


async def test_control_paths_are_not_arm(arm) -> None:
    answer = await arm.control("GET", "nothing-here")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "UnknownControlRequest"
