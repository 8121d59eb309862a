"""The generic reconciler against an in-memory ARM: create, poll, drift, errors, delete."""

from __future__ import annotations

import pytest

from acr_operator.arm.errors import ArmBlockedError, ArmTransientError, ArmUserError
from acr_operator.reconciler import engine
from acr_operator.reconciler.context import ObjectGone
from tests.unit.fakes import REGISTRY_ID, FakeArm, Harness, registry, throttled, webhook


@pytest.fixture
def reg() -> Harness:
    return Harness(registry(tags={"team": "a"}))


async def test_create_answered_200_is_ready_at_once(reg):
    outcome = await reg.step()

    assert reg.arm.methods() == ["GET", "POST", "PUT", "GET"]
    _, path, body = reg.arm.writes()[0]
    assert path == REGISTRY_ID
    assert body == {"location": "westus2", "sku": {"name": "Premium"}, "tags": {"team": "a"}}
    status = reg.obj["status"]
    assert status["id"] == REGISTRY_ID
    assert status["provisioningState"] == "Succeeded"
    assert status["observedGeneration"] == 1
    assert "operation" not in status
    assert reg.condition("Ready")["status"] == "True"
    assert reg.condition("Reconciling")["status"] == "False"
    assert reg.effects.reasons() == ["Creating", "Created"]
    assert 600 <= outcome.delay <= 660


async def test_create_answered_201_saves_the_operation(reg):
    reg.arm.mode = "async"

    outcome = await reg.step()

    operation = reg.obj["status"]["operation"]
    assert operation["kind"] == "create"
    assert operation["style"] == "azure-async-operation"
    assert "/operationStatuses/" in operation["url"]
    assert operation["startedAt"] == "2026-01-01T12:00:00Z"
    assert operation["nextPollAt"] == "2026-01-01T12:00:10Z"
    assert reg.condition("Reconciling")["status"] == "True"
    assert reg.condition("Ready")["reason"] == "Creating"
    assert outcome.delay == 10


async def test_saved_operation_is_polled_not_written_again(reg):
    reg.arm.mode = "async"
    await reg.step()
    reg.arm.requests.clear()

    # A restarted operator sees the saved operation: woken before it is due, it does nothing.
    early = await reg.step()
    assert reg.arm.requests == []
    assert early.delay == 10

    reg.clock.advance(10)
    await reg.step()
    assert reg.arm.methods() == ["GET"]
    assert reg.condition("Ready")["reason"] == "Creating"

    reg.arm.finish_operations()
    reg.clock.advance(10)
    await reg.step()
    assert reg.arm.methods() == ["GET", "GET", "GET"]
    assert reg.arm.writes() == []
    assert reg.condition("Ready")["status"] == "True"
    assert "operation" not in reg.obj["status"]
    assert reg.effects.reasons()[-1] == "Created"


async def test_resync_without_drift_sends_no_write(reg):
    await reg.step()
    reg.arm.requests.clear()
    patches = reg.effects.patches

    await reg.step()

    assert reg.arm.methods() == ["GET"]
    assert reg.effects.patches == patches  # nor any status change


async def test_drift_is_corrected_with_a_patch_of_only_what_changed(reg):
    await reg.step()
    stored = reg.arm.resources[REGISTRY_ID.lower()]
    stored["tags"] = {"team": "a", "extra": "portal"}
    stored["properties"]["adminUserEnabled"] = True  # not in the spec: not drift
    reg.arm.requests.clear()

    await reg.step()

    assert reg.arm.writes() == [("PATCH", REGISTRY_ID, {"tags": {"team": "a"}})]
    assert reg.effects.reasons()[-2:] == ["Updating", "Updated"]


async def test_spec_change_sends_one_patch(reg):
    await reg.step()
    reg.bump(tags={"team": "b"}, properties={"adminUserEnabled": True})
    reg.arm.requests.clear()

    await reg.step()

    (method, _, body), = reg.arm.writes()
    assert method == "PATCH"
    assert body == {"tags": {"team": "b"}, "properties": {"adminUserEnabled": True}}
    assert reg.obj["status"]["observedGeneration"] == 2


async def test_user_error_stalls_and_is_not_retried_until_the_spec_changes(reg):
    reg.arm.fail("PUT", "myregistry", ArmUserError(
        "zone redundancy needs Premium", status=400, code="InvalidParameter"))

    outcome = await reg.step()

    assert reg.condition("Stalled")["status"] == "True"
    assert reg.condition("Ready")["reason"] == "InvalidParameter"
    assert "zone redundancy needs Premium" in reg.condition("Ready")["message"]
    assert reg.obj["status"]["observedGeneration"] == 1
    assert outcome.delay >= 600
    assert "InvalidParameter" in reg.effects.reasons()

    reg.arm.requests.clear()
    await reg.step()  # the resync
    assert [m for m in reg.arm.methods() if m in ("PUT", "POST")] == []
    assert reg.condition("Stalled")["status"] == "True"

    reg.bump(sku={"name": "Standard"})
    await reg.step()
    assert [m for m, _, _ in reg.arm.writes()] == ["PUT"]
    assert reg.condition("Ready")["status"] == "True"
    assert "refusedGeneration" not in reg.obj["status"]


async def test_blocked_error_stalls_but_is_tried_again_on_resync(reg):
    reg.arm.fail("PUT", "myregistry", ArmBlockedError(
        "no role assignment", status=403, code="AuthorizationFailed"))
    await reg.step()
    assert reg.condition("Stalled")["status"] == "True"

    await reg.step()

    assert [m for m, _, _ in reg.arm.writes()] == ["PUT", "PUT"]
    assert reg.condition("Ready")["status"] == "True"


async def test_throttling_waits_at_least_retry_after(reg):
    reg.arm.fail("PUT", "myregistry", throttled(30))

    outcome = await reg.step()

    assert outcome.delay >= 30
    assert reg.condition("Ready")["reason"] == "Throttled"
    assert reg.condition("Reconciling")["status"] == "True"
    assert reg.condition("Stalled")["status"] == "False"
    assert "retrying in" in reg.condition("Ready")["message"]


async def test_transient_errors_back_off_exponentially(reg):
    delays = []
    for _ in range(3):
        reg.arm.fail("GET", "myregistry", ArmTransientError("down", code="NetworkError"))
        delays.append((await reg.step()).delay)

    assert delays[0] < delays[1] < delays[2]
    assert delays[0] >= 5
    assert reg.condition("Ready")["reason"] == "TransientError"
    await reg.step()
    assert reg.memory["attempts"] == 0


async def test_name_not_available_stalls_without_put(reg):
    reg.arm.name_answer = {
        "nameAvailable": False, "reason": "AlreadyExists",
        "message": "The registry myregistry is already in use.",
    }

    await reg.step()

    assert [m for m, _, _ in reg.arm.writes()] == []
    ready = reg.condition("Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "AlreadyExists"
    assert "already in use" in ready["message"]
    assert reg.condition("Stalled")["status"] == "True"


async def test_failed_operation_is_retried_with_backoff(reg):
    reg.arm.mode = "async"
    await reg.step()
    reg.arm.finish_operations("Failed")
    reg.clock.advance(10)

    outcome = await reg.step()

    assert reg.condition("Ready")["reason"] == "InternalServerError"
    assert "operation" not in reg.obj["status"]
    assert outcome.delay >= 5
    reg.arm.mode = "sync"
    await reg.step()
    assert [m for m, _, _ in reg.arm.writes()] == ["PUT", "PUT"]
    assert reg.condition("Ready")["status"] == "True"


async def test_lost_operation_falls_back_to_reading_the_resource(reg):
    reg.arm.mode = "async"
    await reg.step()
    reg.arm.operations.clear()  # the polling URL expired
    reg.arm.resources[REGISTRY_ID.lower()]["properties"]["provisioningState"] = "Succeeded"
    reg.clock.advance(10)

    await reg.step()

    assert reg.condition("Ready")["status"] == "True"
    assert [m for m, _, _ in reg.arm.writes()] == ["PUT"]


async def test_busy_resource_is_not_written(reg):
    await reg.step()
    reg.arm.resources[REGISTRY_ID.lower()]["properties"]["provisioningState"] = "Updating"
    reg.bump(tags={"team": "b"})

    outcome = await reg.step()

    assert [m for m, _, _ in reg.arm.writes()] == ["PUT"]
    assert reg.condition("Ready")["reason"] == "Updating"
    assert outcome.delay == 10


async def test_conditions_keep_their_transition_time_across_resyncs(reg):
    await reg.step()
    first = reg.condition("Ready")["lastTransitionTime"]
    reg.clock.advance(600)

    await reg.step()

    assert reg.condition("Ready")["lastTransitionTime"] == first


async def test_skip_policy_touches_nothing_in_azure(reg):
    reg.obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "skip"}

    await reg.step()
    deleted = await reg.step(deleting=True)

    assert reg.arm.requests == []
    assert reg.condition("Ready")["reason"] == "Skipped"
    assert deleted.done


async def test_child_waits_for_its_parent(reg):
    hook = Harness(webhook())

    outcome = await hook.step()

    assert hook.arm.requests == []
    assert hook.condition("Ready")["reason"] == "WaitingForParent"
    assert hook.condition("Reconciling")["status"] == "True"
    assert outcome.waiting_on == ("Registry", "main")
    assert "Registry main" in hook.condition("Ready")["message"]


async def test_child_with_secret_input_never_shows_the_secret():
    hook = Harness(webhook(), arm=FakeArm(mode="async"))
    hook.resolver.add_ready("Registry", "main", REGISTRY_ID)
    hook.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/h?token=s3cr3tvalue"}

    await hook.step()
    hook.arm.finish_operations()
    hook.clock.advance(10)
    await hook.step()

    (_, path, body), = hook.arm.writes()
    assert path == f"{REGISTRY_ID}/webhooks/hook01"
    assert body["properties"]["serviceUri"] == "https://example.com/h?token=s3cr3tvalue"
    assert "serviceUriSecretRef" not in body["properties"]
    assert "registryRef" not in body
    assert hook.condition("Ready")["status"] == "True"
    assert "s3cr3tvalue" not in repr(hook.obj["status"])
    assert "s3cr3tvalue" not in repr(hook.effects.events)
    assert hook.obj["status"]["writeOnlyHash"]


async def test_changed_secret_value_is_written_though_get_never_shows_it():
    hook = Harness(webhook())
    hook.resolver.add_ready("Registry", "main", REGISTRY_ID)
    hook.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/one"}
    await hook.step()
    hook.arm.resources[f"{REGISTRY_ID}/webhooks/hook01".lower()]["properties"].pop("serviceUri")
    await hook.step()
    assert len(hook.arm.writes()) == 1

    hook.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/two"}
    await hook.step()

    method, _, body = hook.arm.writes()[-1]
    assert method == "PATCH"
    assert body == {"properties": {"serviceUri": "https://example.com/two"}}


async def test_missing_secret_waits_with_its_name():
    hook = Harness(webhook())
    hook.resolver.add_ready("Registry", "main", REGISTRY_ID)

    await hook.step()

    assert hook.condition("Ready")["reason"] == "WaitingForSecret"
    assert "Secret hook" in hook.condition("Ready")["message"]
    assert hook.arm.requests == []


async def test_delete_of_a_resource_that_answers_404_releases_at_once(reg):
    outcome = await reg.step(deleting=True)

    assert outcome.done
    assert reg.arm.methods() == ["GET"]


async def test_delete_polls_the_location_until_gone(reg):
    await reg.step()
    reg.arm.mode = "async"

    first = await reg.step(deleting=True)
    assert not first.done
    assert reg.obj["status"]["operation"]["style"] == "location"
    assert reg.condition("Ready")["reason"] == "Deleting"

    reg.clock.advance(10)
    assert not (await reg.step(deleting=True)).done
    reg.arm.finish_operations()
    reg.clock.advance(10)
    last = await reg.step(deleting=True)

    assert last.done
    assert [m for m, _, _ in reg.arm.writes()] == ["PUT", "DELETE"]
    assert reg.effects.reasons()[-2:] == ["Deleting", "Deleted"]


async def test_delete_of_a_never_created_child_needs_no_parent():
    hook = Harness(webhook())

    outcome = await hook.step(deleting=True)

    assert outcome.done
    assert hook.arm.requests == []


async def test_detach_on_delete_leaves_the_resource(reg):
    await reg.step()
    reg.obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "detach-on-delete"}
    reg.arm.requests.clear()

    outcome = await reg.step(deleting=True)

    assert outcome.done
    assert reg.arm.requests == []
    assert reg.effects.reasons()[-1] == "Detached"


async def test_delete_refused_stalls_and_points_at_detach(reg):
    await reg.step()
    reg.arm.fail("DELETE", "myregistry", ArmBlockedError("locked", status=409, code="ScopeLocked"))

    outcome = await reg.step(deleting=True)

    assert not outcome.done
    assert reg.condition("Stalled")["status"] == "True"
    assert "detach-on-delete" in reg.condition("Ready")["message"]


def test_unknown_policy_is_invalid():
    obj = registry()
    obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "sometimes"}
    assert engine.policy_of(obj) == engine.INVALID


async def test_invalid_policy_stalls_without_arm_calls(reg):
    reg.obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "detach"}

    await reg.step()

    assert reg.arm.requests == []
    assert reg.condition("Stalled")["reason"] == "InvalidReconcilePolicy"
    assert "'detach'" in reg.condition("Ready")["message"]


async def test_invalid_policy_delete_keeps_the_resource(reg):
    await reg.step()
    reg.obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "detach"}
    reg.arm.requests.clear()

    outcome = await reg.step(deleting=True)

    assert outcome.done
    assert reg.arm.writes() == []
    assert "InvalidReconcilePolicy" in reg.effects.reasons()


async def test_skip_does_not_advance_observed_generation(reg):
    await reg.step()
    reg.obj["metadata"]["annotations"] = {engine.POLICY_ANNOTATION: "skip"}
    reg.bump(tags={"team": "b"})

    await reg.step()

    assert reg.obj["status"]["observedGeneration"] == 1


async def test_object_deleted_before_create_sends_no_put(reg):
    reg.effects.gone = ObjectGone("Registry main no longer exists")

    with pytest.raises(ObjectGone):
        await reg.step()

    assert reg.arm.writes() == []


async def test_odd_error_code_becomes_pascal_reason(reg):
    reg.arm.fail("PUT", "registries", ArmTransientError(
        "the emulator failed", status=500, code="internal server.error-42"))

    await reg.step()

    assert reg.condition("Ready")["reason"] == "InternalServererror42"


async def test_secret_changed_during_operation_is_written_after_it():
    hook = Harness(webhook())
    hook.arm.mode = "async"
    hook.resolver.add_ready("Registry", "main", REGISTRY_ID)
    hook.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/one"}
    await hook.step()
    hook.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/two"}
    hook.arm.finish_operations()
    hook.clock.advance(10)
    hook.arm.mode = "sync"

    await hook.step()

    method, _, body = hook.arm.writes()[-1]
    assert method == "PATCH"
    assert body == {"properties": {"serviceUri": "https://example.com/two"}}
