"""The request log: what it records, what it redacts, and what it leaves out."""

from __future__ import annotations

from acr_operator.emulator.requestlog import REDACTED, redact
from tests.emulator.conftest import registry_path


async def test_entries_describe_the_request(arm) -> None:
    await arm.create_registry("myregistry1")
    [entry] = (await arm.control("GET", "requests")).body
    assert entry["seq"] == 1
    assert entry["method"] == "PUT"
    assert entry["path"] == registry_path("myregistry1")
    assert entry["query"] == {"api-version": "2025-06-01-preview"}
    assert entry["operationId"] == "Registries_Create"
    assert entry["status"] == 200
    assert entry["body"]["sku"] == {"name": "Premium"}
    assert entry["time"].endswith("Z")


async def test_secrets_are_redacted(arm) -> None:
    await arm.create_registry("myregistry1")
    await arm.put(registry_path("myregistry1") + "/webhooks/hook1", {
        "location": "westus2", "properties": {
            "serviceUri": "https://hooks.example.com/?code=secret",
            "customHeaders": {"Authorization": "Bearer abc"}, "actions": ["push"]}})
    await arm.post(registry_path("myregistry1") + "/importImage", {
        "source": {"registryUri": "docker.io", "sourceImage": "library/hello-world",
                   "credentials": {"username": "me", "password": "hunter2"}}})
    log = (await arm.control("GET", "requests")).body
    hook = log[1]["body"]["properties"]
    assert hook["serviceUri"] == REDACTED
    assert hook["customHeaders"] == REDACTED
    assert hook["actions"] == ["push"]
    credentials = log[2]["body"]["source"]["credentials"]
    assert credentials == {"username": "me", "password": REDACTED}
    assert "hunter2" not in str(log)
    assert "secret" not in str(log)


def test_named_password_values_are_redacted() -> None:
    body = {"passwords": [{"name": "password1", "value": "x"}, {"name": "tag", "value": "v1"}],
            "passwordSecretIdentifier": "https://vault/secrets/p"}
    assert redact(body) == {
        "passwords": [{"name": "password1", "value": REDACTED}, {"name": "tag", "value": "v1"}],
        "passwordSecretIdentifier": "https://vault/secrets/p"}


async def test_control_requests_are_not_logged(arm) -> None:
    await arm.create_registry("myregistry1")
    await arm.control("GET", "resources")
    await arm.control("PUT", "config", {"retryAfter": 1})
    assert len((await arm.control("GET", "requests")).body) == 1
    assert (await arm.control("DELETE", "requests")).status == 204
    await arm.get(registry_path("myregistry1"))
    [entry] = (await arm.control("GET", "requests")).body
    assert entry["seq"] == 2


async def test_polls_and_failures_are_logged(arm) -> None:
    arm.token = None
    await arm.get(registry_path("myregistry1"))
    arm.token = "t"
    await arm.create_registry("myregistry1")
    answer = await arm.delete(registry_path("myregistry1"))
    await arm.get(answer.header("Location"))
    log = (await arm.control("GET", "requests")).body
    assert [(e["operationId"], e["status"]) for e in log] == [
        (None, 401), ("Registries_Create", 200), ("Registries_Delete", 202),
        ("OperationResult", 202)]
