"""Token passwords: generated only when due, written to owned Secrets, never to status."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from acr_operator.reconciler import outputs
from tests.unit.secretfakes import CredentialArm, harness, token


def _all_values(run) -> list[str]:
    data = run.effects.values("tok-creds")
    return [data[name] for name in ("password1", "password2") if name in data]


def _assert_no_values_outside_secrets(run) -> None:
    text = json.dumps(run.obj["status"]) + json.dumps(run.effects.events)
    for value in _all_values(run):
        assert value not in text


def _dockerconfig(run) -> dict:
    data = run.effects.values("tok-creds-dockerconfig")
    return json.loads(data[".dockerconfigjson"])["auths"]["myregistry.azurecr.io"]


async def test_first_reconcile_generates_both_passwords():
    run = harness(token())

    await run.step()

    generated = run.arm.generated()
    assert [body["name"] for body in generated] == ["password1", "password2"]
    assert generated[0]["tokenId"].endswith("/tokens/tok01")
    data = run.effects.values("tok-creds")
    assert data["username"] == "tok01"
    assert data["loginServer"] == "myregistry.azurecr.io"
    assert data["password1"] == run.arm.token_passwords["password1"]["value"]
    assert data["password2"] == run.arm.token_passwords["password2"]["value"]
    assert run.condition("Ready")["status"] == "True"
    _assert_no_values_outside_secrets(run)


async def test_status_records_facts_not_values():
    run = harness(token())

    await run.step()

    state = run.obj["status"]["passwords"]
    assert state["secretName"] == "tok-creds"
    assert state["dockerConfigSecretName"] == "tok-creds-dockerconfig"
    assert state["loginServer"] == "myregistry.azurecr.io"
    assert state["password1"]["rotation"] == 0
    assert state["password1"]["createdAt"] == run.arm.token_passwords["password1"]["creationTime"]
    assert "value" not in state["password1"]
    assert "pending" not in state


async def test_dockerconfig_logs_in_with_newest_password():
    run = harness(token())

    await run.step()

    login = _dockerconfig(run)
    newest = run.obj["status"]["passwords"]["dockerConfigPassword"]
    assert newest == "password2"  # generated after password1
    assert login["username"] == "tok01"
    assert login["password"] == run.effects.values("tok-creds")["password2"]
    assert base64.b64decode(login["auth"]).decode() == f"tok01:{login['password']}"
    secret = run.effects.secrets["tok-creds-dockerconfig"]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"


async def test_secrets_are_owned_and_labelled():
    run = harness(token())

    await run.step()

    for name in ("tok-creds", "tok-creds-dockerconfig"):
        meta = run.effects.secrets[name]["metadata"]
        assert meta["ownerReferences"] == [{
            "apiVersion": "acr-operator.dev/v1alpha1", "kind": "Token", "name": "tok",
            "uid": "uid-tok", "controller": True, "blockOwnerDeletion": False,
        }]
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "acr-operator"


async def test_resync_generates_and_writes_nothing():
    run = harness(token())
    await run.step()
    writes = len(run.effects.writes)

    await run.step()

    assert len(run.arm.generated()) == 2
    assert len(run.effects.writes) == writes
    assert run.condition("Ready")["status"] == "True"


async def test_rotation_replaces_only_that_password():
    run = harness(token())
    await run.step()
    before = run.effects.values("tok-creds")

    run.obj["spec"]["passwords"]["rotation"] = {"password1": 1}
    run.obj["metadata"]["generation"] += 1
    await run.step()

    after = run.effects.values("tok-creds")
    assert [body["name"] for body in run.arm.generated()[2:]] == ["password1"]
    assert after["password1"] != before["password1"]
    assert after["password2"] == before["password2"]
    assert run.obj["status"]["passwords"]["password1"]["rotation"] == 1
    assert run.obj["status"]["passwords"]["password2"]["rotation"] == 0
    assert "PasswordRotated" in run.effects.reasons()


async def test_lowered_counter_does_nothing():
    run = harness(token(rotation={"password1": 3}))
    await run.step()

    run.obj["spec"]["passwords"]["rotation"] = {"password1": 1}
    await run.step()

    assert len(run.arm.generated()) == 2
    assert run.obj["status"]["passwords"]["password1"]["rotation"] == 3


async def test_restart_without_status_reads_the_secret():
    run = harness(token())
    await run.step()
    # A restored object: status is gone, the owned Secret and its record annotation stay.
    run.obj["status"] = {}

    await run.step()

    assert len(run.arm.generated()) == 2
    assert run.obj["status"]["passwords"]["password1"]["rotation"] == 0


async def test_lost_secret_regenerates_and_warns():
    run = harness(token())
    await run.step()
    del run.effects.secrets["tok-creds"]

    await run.step()

    assert [body["name"] for body in run.arm.generated()[2:]] == ["password1", "password2"]
    warnings = [reason for kind, reason, _ in run.effects.events if kind == "Warning"]
    assert warnings == ["SecretLost", "SecretLost"]
    assert run.effects.values("tok-creds")["password1"] == (
        run.arm.token_passwords["password1"]["value"])


async def test_lost_entry_regenerates_only_that_one():
    run = harness(token())
    await run.step()
    before = run.effects.values("tok-creds")
    secret = run.effects.secrets["tok-creds"]
    del secret["data"]["password2"]

    await run.step()

    after = run.effects.values("tok-creds")
    assert [body["name"] for body in run.arm.generated()[2:]] == ["password2"]
    assert after["password1"] == before["password1"]


async def test_foreign_secret_is_not_overwritten():
    run = harness(token())
    run.effects.add_foreign("tok-creds")

    await run.step()

    assert run.arm.generated() == []
    ready = run.condition("Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "SecretNotOwned"
    assert "spec.passwords.secretName" in ready["message"]
    assert run.condition("Stalled")["status"] == "True"
    assert run.effects.secrets["tok-creds"]["data"] == {}


async def test_foreign_secret_reported_once():
    run = harness(token())
    run.effects.add_foreign("tok-creds")

    await run.step()
    await run.step()

    warnings = [reason for kind, reason, _ in run.effects.events if kind == "Warning"]
    assert warnings == ["SecretNotOwned"]


async def test_location_operation_is_saved_before_the_step_ends():
    run = harness(token(), arm=CredentialArm(action_mode="location"))

    outcome = await run.step()

    pending = run.obj["status"]["passwords"]["pending"]
    assert pending["kind"] == "action"
    assert pending["style"] == "location"
    assert pending["password"] == "password1"
    assert run.condition("Ready")["reason"] == "GeneratingPassword"
    assert run.condition("Reconciling")["status"] == "True"
    assert outcome.delay == 5
    assert "tok-creds" not in run.effects.secrets


async def test_restart_polls_instead_of_generating_again():
    arm = CredentialArm(action_mode="location")
    run = harness(token(), arm=arm)
    await run.step()
    # A new process: same status, no memory, the operation not finished yet.
    run.memory.clear()
    run.clock.advance(5)

    await run.step()

    assert len(arm.generated()) == 1
    assert "pending" in run.obj["status"]["passwords"]


async def test_finished_operation_writes_the_password():
    arm = CredentialArm(action_mode="location")
    run = harness(token(), arm=arm)
    await run.step()

    arm.finish_actions()
    run.clock.advance(5)
    await run.step()
    arm.finish_actions()
    run.clock.advance(5)
    await run.step()

    assert [body["name"] for body in arm.generated()] == ["password1", "password2"]
    data = run.effects.values("tok-creds")
    assert data["password1"] == arm.token_passwords["password1"]["value"]
    assert data["password2"] == arm.token_passwords["password2"]["value"]
    assert "pending" not in run.obj["status"]["passwords"]
    assert run.condition("Ready")["status"] == "True"


async def test_pending_written_to_status_before_return():
    arm = CredentialArm(action_mode="location")
    run = harness(token(), arm=arm)
    seen = []
    original = run.effects.patch_status

    async def record(status):
        seen.append(copy.deepcopy(status))
        await original(status)

    run.effects.patch_status = record
    await run.step()

    # The first write already has the pending operation: a SIGKILL after it loses nothing.
    assert "pending" in seen[0]["passwords"]
    assert len(seen) == 2


async def test_disabled_password_is_never_generated():
    run = harness(token(password2={"enabled": False}))

    await run.step()

    assert [body["name"] for body in run.arm.generated()] == ["password1"]
    assert "password2" not in run.effects.values("tok-creds")
    assert run.obj["status"]["passwords"]["dockerConfigPassword"] == "password1"


async def test_disabling_deletes_from_token_and_secret():
    run = harness(token())
    await run.step()

    run.obj["spec"]["passwords"]["password1"] = {"enabled": False}
    run.obj["metadata"]["generation"] += 1
    await run.step()

    patches = [body for method, path, body in run.arm.requests
               if method == "PATCH" and path.endswith("/tokens/tok01")]
    assert len(patches) == 1
    kept = patches[0]["properties"]["credentials"]["passwords"]
    assert [entry["name"] for entry in kept] == ["password2"]
    assert all("value" not in entry for entry in kept)
    assert "password1" not in run.effects.values("tok-creds")
    assert "password1" not in run.obj["status"]["passwords"]
    assert run.obj["status"]["passwords"]["dockerConfigPassword"] == "password2"


async def test_expiry_is_sent_and_recorded():
    run = harness(token(password1={"expiry": "2027-01-01T00:00:00Z"}))

    await run.step()

    first = run.arm.generated()[0]
    assert first["expiry"] == "2027-01-01T00:00:00Z"
    assert "expiry" not in run.arm.generated()[1]
    assert run.obj["status"]["passwords"]["password1"]["expiry"] == "2027-01-01T00:00:00Z"


async def test_expired_password_not_used_for_pulls():
    run = harness(token(password2={"expiry": "2026-01-01T12:30:00Z"}))
    await run.step()
    assert run.obj["status"]["passwords"]["dockerConfigPassword"] == "password2"

    run.clock.advance(3600)
    await run.step()

    assert run.obj["status"]["passwords"]["dockerConfigPassword"] == "password1"
    assert _dockerconfig(run)["password"] == run.effects.values("tok-creds")["password1"]


async def test_every_password_expired_stalls():
    expiry = {"expiry": "2026-01-01T12:30:00Z"}
    run = harness(token(password1=expiry, password2=expiry))
    await run.step()

    run.clock.advance(3600)
    await run.step()

    ready = run.condition("Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "PasswordsExpired"
    assert "spec.passwords.rotation" in ready["message"]


async def test_renamed_secret_keeps_the_passwords():
    run = harness(token())
    await run.step()
    before = run.effects.values("tok-creds")

    run.obj["spec"]["passwords"]["secretName"] = "renamed"
    run.obj["metadata"]["generation"] += 1
    await run.step()

    assert len(run.arm.generated()) == 2
    after = run.effects.values("renamed")
    assert after["password1"] == before["password1"]
    assert after["password2"] == before["password2"]
    assert "renamed-dockerconfig" in run.effects.secrets


async def test_without_spec_passwords_nothing_happens():
    run = harness(token())
    del run.obj["spec"]["passwords"]

    await run.step()

    assert run.arm.generated() == []
    assert run.effects.secrets == {}
    assert "passwords" not in run.obj["status"]


async def test_passwords_never_reach_the_arm_body():
    run = harness(token())

    await run.step()

    put = [body for method, _, body in run.arm.requests if method == "PUT"]
    assert len(put) == 1
    assert "passwords" not in put[0]


@pytest.mark.parametrize(("record", "expected"), [
    ({"password1": {"createdAt": "2026-01-02T00:00:00Z"},
      "password2": {"createdAt": "2026-01-01T00:00:00Z"}}, "password1"),
    ({"password1": {"createdAt": "2026-01-01T00:00:00Z"},
      "password2": {"createdAt": "2026-01-01T00:00:00Z"}}, "password2"),
    ({}, "password2"),
])
def test_newest_password_by_creation_time(record, expected):
    names = ("password1", "password2")
    assert outputs.newest(record, names, stamp="createdAt", usable=lambda _: True) == expected
