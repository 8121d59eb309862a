"""Registry admin credentials: exported on request, rotated one password at a time."""

from __future__ import annotations

import json

from tests.unit.fakes import registry
from tests.unit.secretfakes import harness


def _registry(**admin) -> dict:
    return registry(properties={"adminUserEnabled": True},
                    adminCredentials={"secretName": "admin-creds", **admin})


def _posts(run, action: str) -> list:
    return [body for method, path, body in run.arm.requests
            if method == "POST" and path.endswith(f"/{action}")]


async def test_export_writes_both_secrets():
    run = harness(_registry())

    await run.step()

    data = run.effects.values("admin-creds")
    assert data["username"] == "myregistry"
    assert data["password"] == run.arm.admin["password"]
    assert data["password2"] == run.arm.admin["password2"]
    assert data["loginServer"] == "myregistry.azurecr.io"
    login = json.loads(run.effects.values("admin-creds-dockerconfig")[".dockerconfigjson"])
    assert login["auths"]["myregistry.azurecr.io"]["username"] == "myregistry"
    assert _posts(run, "regenerateCredential") == []
    assert run.condition("Ready")["status"] == "True"


async def test_status_has_no_admin_password():
    run = harness(_registry())

    await run.step()

    state = run.obj["status"]["adminCredentials"]
    assert state["secretName"] == "admin-creds"
    assert state["password"] == {"rotation": 0}
    text = json.dumps(run.obj["status"]) + json.dumps(run.effects.events)
    assert run.arm.admin["password"] not in text
    assert run.arm.admin["password2"] not in text


async def test_rotation_regenerates_only_password():
    run = harness(_registry())
    await run.step()
    old_second = run.arm.admin["password2"]

    run.obj["spec"]["adminCredentials"]["rotation"] = {"password": 1}
    run.obj["metadata"]["generation"] += 1
    await run.step()

    assert _posts(run, "regenerateCredential") == [{"name": "password"}]
    data = run.effects.values("admin-creds")
    assert data["password"] == run.arm.admin["password"]
    assert data["password2"] == old_second
    assert run.obj["status"]["adminCredentials"]["password"]["rotation"] == 1
    assert run.obj["status"]["adminCredentials"]["dockerConfigPassword"] == "password"


async def test_resync_does_not_regenerate():
    run = harness(_registry(rotation={"password": 2}))
    await run.step()
    await run.step()

    assert _posts(run, "regenerateCredential") == []
    assert len(_posts(run, "listCredentials")) == 2


async def test_change_made_in_portal_reaches_secret():
    run = harness(_registry())
    await run.step()

    run.arm.admin["password2"] = "changed-elsewhere-0123456789"
    await run.step()

    assert run.effects.values("admin-creds")["password2"] == "changed-elsewhere-0123456789"


async def test_admin_user_disabled_stalls():
    run = harness(registry(adminCredentials={"secretName": "admin-creds"}))
    run.arm.resources[next(iter(run.arm.resources))]["properties"]["adminUserEnabled"] = False

    await run.step()

    ready = run.condition("Ready")
    assert ready["reason"] == "AdminUserDisabled"
    assert "spec.properties.adminUserEnabled" in ready["message"]
    assert "spec.adminCredentials" in ready["message"]
    assert run.condition("Stalled")["status"] == "True"
    assert _posts(run, "listCredentials") == []


async def test_foreign_admin_secret_stalls():
    run = harness(_registry())
    run.effects.add_foreign("admin-creds")

    await run.step()

    assert run.condition("Ready")["reason"] == "SecretNotOwned"
    assert "spec.adminCredentials.secretName" in run.condition("Ready")["message"]


async def test_admin_credentials_not_in_arm_body():
    run = harness(_registry())
    run.arm.resources.clear()

    await run.step()

    put = [body for method, _, body in run.arm.requests if method == "PUT"]
    assert len(put) == 1
    assert "adminCredentials" not in put[0]
