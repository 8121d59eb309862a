"""Token passwords: a write that lists the passwords to keep deletes the others."""

from __future__ import annotations

from tests.emulator.conftest import registry_path

REGISTRY = registry_path("myregistry1")
TOKEN = REGISTRY + "/tokens/token1"


async def _check(arm, password: str) -> bool:
    answer = await arm.control("POST", "credential-check", {
        "registry": "myregistry1", "username": "token1", "password": password})
    return answer.body["valid"]


async def test_patch_listing_one_password_deletes_the_other(arm) -> None:
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1")
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_pull"}})
    result = await arm.post(REGISTRY + "/generateCredentials", {"tokenId": TOKEN})
    values = {p["name"]: p["value"] for p in result.body["passwords"]}

    answer = await arm.patch(TOKEN, {"properties": {"credentials": {
        "passwords": [{"name": "password2"}]}}})

    assert answer.status == 200
    listed = answer.body["properties"]["credentials"]["passwords"]
    assert [p["name"] for p in listed] == ["password2"]
    assert not await _check(arm, values["password1"])
    assert await _check(arm, values["password2"])


async def test_patch_without_credentials_keeps_passwords(arm) -> None:
    await arm.configure(lro="sync")
    await arm.create_registry("myregistry1")
    await arm.put(TOKEN, {"properties": {"scopeMapId": REGISTRY + "/scopeMaps/_repositories_pull"}})
    result = await arm.post(REGISTRY + "/generateCredentials", {"tokenId": TOKEN})

    await arm.patch(TOKEN, {"properties": {"status": "enabled"}})

    for password in result.body["passwords"]:
        assert await _check(arm, password["value"])
