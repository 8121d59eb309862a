"""ImageImport, the one-shot kind: one POST per object, whatever happens in between."""

from __future__ import annotations

import pytest

from acr_operator.arm.client import ArmResponse
from acr_operator.arm.errors import ArmBlockedError, ArmError, ArmUserError
from tests.unit.fakes import REGISTRY_ID, FakeArm, Harness, throttled

IMPORT_PATH = f"{REGISTRY_ID}/importImage"
SOURCE_ID = REGISTRY_ID.replace("myregistry", "sourceregistry")


class ImportArm(FakeArm):
    """FakeArm that also serves Registries_ImportImage, at once or as a Location operation."""

    async def request(self, method, path_or_url, *, body=None, params=None) -> ArmResponse:
        if method == "POST" and path_or_url.endswith("/importImage"):
            self.requests.append((method, path_or_url, body))
            for index, (fault_method, contains, error) in enumerate(self.faults):
                if fault_method == method and contains in path_or_url:
                    del self.faults[index]
                    raise error
            if self.mode == "sync":
                return ArmResponse(200, {}, None)
            return self._start("action", path_or_url, 202, "Location", None)
        return await super().request(method, path_or_url, body=body, params=params)

    def posts(self) -> list:
        return [r for r in self.requests if r[0] == "POST"]


def image_import(**spec) -> dict:
    base = {
        "registryRef": {"name": "main"},
        "source": {"registryUri": "docker.io", "sourceImage": "library/hello-world:latest"},
        "targetTags": ["hello:v1"],
    }
    base.update(spec)
    return {
        "apiVersion": "acr-operator.dev/v1alpha1", "kind": "ImageImport",
        "metadata": {"name": "imp", "namespace": "default", "uid": "uid-imp", "generation": 1,
                     "finalizers": ["acr-operator.dev/finalizer"]},
        "spec": base,
    }


def harness(mode: str = "sync", **spec) -> Harness:
    h = Harness(image_import(**spec), arm=ImportArm(mode=mode))
    h.resolver.add_ready("Registry", "main", REGISTRY_ID)
    return h


def restart(h: Harness) -> None:
    """Forget the per-object memory, as a new operator process starts with the status only."""
    h.memory.clear()


async def test_import_200_done_after_one_post():
    h = harness()

    outcome = await h.step()

    (method, path, body), = h.arm.posts()
    assert (method, path) == ("POST", IMPORT_PATH)
    assert body == {"source": {"registryUri": "docker.io",
                               "sourceImage": "library/hello-world:latest"},
                    "targetTags": ["hello:v1"]}
    status = h.obj["status"]
    assert status["result"] == {"status": "Succeeded"}
    assert status["startedAt"] and status["completedAt"]
    assert status["observedGeneration"] == 1
    assert h.condition("Ready")["status"] == "True"
    assert h.condition("Ready")["reason"] == "Imported"
    assert "hello:v1" in h.condition("Ready")["message"]
    assert h.effects.reasons() == ["Importing", "Imported"]
    assert outcome.delay >= 600

    h.arm.requests.clear()
    await h.step()
    assert h.arm.requests == []


async def test_import_in_flight_polled_not_resent():
    h = harness("async")

    await h.step()

    operation = h.obj["status"]["operation"]
    assert operation["style"] == "location"
    assert operation["kind"] == "action"
    assert h.condition("Ready")["reason"] == "Importing"
    assert h.condition("Reconciling")["status"] == "True"

    restart(h)
    h.arm.requests.clear()
    await h.step()  # The poll is not due yet.
    assert h.arm.requests == []
    h.clock.advance(10)
    await h.step()
    assert h.arm.methods() == ["GET"]

    h.arm.finish_operations()
    h.clock.advance(10)
    await h.step()
    assert h.condition("Ready")["reason"] == "Imported"
    assert "operation" not in h.obj["status"]
    assert len(h.arm.posts()) == 0  # Only polls since the restart.


async def test_restart_after_post_sends_nothing():
    h = harness()
    # The step before the crash wrote the marker and sent the POST, then ARM's response
    # was lost.
    h.obj["status"] = {"startedAt": "2026-01-01T11:59:00Z"}

    await h.step()

    assert h.arm.requests == []
    assert h.condition("Stalled")["status"] == "True"
    assert h.condition("Ready")["reason"] == "OutcomeUnknown"
    assert h.obj["status"]["result"]["status"] == "Failed"


async def test_user_error_fails_the_run_for_good():
    h = harness()
    h.arm.fail("POST", "importImage", ArmUserError(
        "The source image was not found.", status=400, code="InvalidParameter"))

    await h.step()

    assert h.condition("Stalled")["status"] == "True"
    assert h.condition("Ready")["reason"] == "InvalidParameter"
    assert "create a new ImageImport" in h.condition("Ready")["message"]
    assert h.obj["status"]["result"] == {"status": "Failed", "code": "InvalidParameter",
                                         "message": "The source image was not found."}
    h.arm.requests.clear()
    await h.step()
    await h.step()
    assert h.arm.requests == []


async def test_throttled_import_is_sent_again_after_retry_after():
    h = harness()
    h.arm.fail("POST", "importImage", throttled(7))

    outcome = await h.step()

    assert h.condition("Ready")["reason"] == "Throttled"
    assert "startedAt" not in h.obj["status"]  # ARM accepted nothing.
    assert 7 <= outcome.delay <= 9
    restart(h)  # Even a restarted operator may send it again, because the 429 ran nothing.
    await h.step()
    assert len(h.arm.posts()) == 2
    assert h.condition("Ready")["reason"] == "Imported"


async def test_network_failure_retried_in_process():
    h = harness()
    h.arm.fail("POST", "importImage", ArmError("connection reset", code="NetworkError"))

    await h.step()

    assert h.condition("Ready")["reason"] == "TransientError"
    assert h.obj["status"]["startedAt"]
    await h.step()
    assert len(h.arm.posts()) == 2
    assert h.condition("Ready")["reason"] == "Imported"


async def test_network_failure_then_restart_is_an_unknown_outcome():
    h = harness()
    h.arm.fail("POST", "importImage", ArmError("connection reset", code="NetworkError"))
    await h.step()

    restart(h)
    await h.step()

    assert len(h.arm.posts()) == 1
    assert h.condition("Ready")["reason"] == "OutcomeUnknown"


async def test_blocked_import_stalls_and_is_tried_again_later():
    h = harness()
    h.arm.fail("POST", "importImage", ArmBlockedError(
        "no role assignment", status=403, code="AuthorizationFailed"))

    await h.step()

    assert h.condition("Stalled")["status"] == "True"
    assert "completedAt" not in h.obj["status"]
    await h.step()
    assert len(h.arm.posts()) == 2
    assert h.condition("Ready")["reason"] == "Imported"


async def test_failed_operation_reports_arms_code():
    h = harness("async")
    await h.step()
    h.arm.fail("GET", "operationResults", ArmUserError(
        "manifest unknown", status=400, code="ManifestUnknown"))
    h.clock.advance(10)

    await h.step()

    assert h.condition("Ready")["reason"] == "ManifestUnknown"
    assert h.obj["status"]["result"]["code"] == "ManifestUnknown"
    assert "operation" not in h.obj["status"]


async def test_lost_operation_is_unknown_outcome():
    h = harness("async")
    await h.step()
    h.arm.operations.clear()  # The polling URL now returns 404.
    h.clock.advance(10)

    await h.step()

    assert len(h.arm.posts()) == 1
    assert h.condition("Ready")["reason"] == "OutcomeUnknown"


async def test_waits_for_the_target_registry():
    h = Harness(image_import(), arm=ImportArm())

    outcome = await h.step()

    assert h.arm.requests == []
    assert h.condition("Ready")["reason"] == "WaitingForParent"
    assert outcome.waiting_on == ("Registry", "main")
    assert "startedAt" not in h.obj["status"]


async def test_source_registry_ref_and_password_secret():
    h = harness(source={
        "registryRef": {"name": "src"}, "sourceImage": "app:1",
        "credentials": {"username": "puller",
                        "passwordSecretRef": {"name": "pull", "key": "password"}},
    })
    h.resolver.add_ready("Registry", "src", SOURCE_ID)
    h.resolver.secrets[("default", "pull")] = {"password": "pa55w0rd-value"}
    h.arm.fail("POST", "importImage", ArmUserError(
        "login failed for password pa55w0rd-value", status=400, code="InvalidParameter"))

    await h.step()

    (_, _, body), = h.arm.posts()
    assert body["source"] == {"resourceId": SOURCE_ID, "sourceImage": "app:1",
                              "credentials": {"username": "puller",
                                              "password": "pa55w0rd-value"}}
    visible = repr(h.obj["status"]) + repr(h.effects.events)
    assert "pa55w0rd" not in visible


async def test_skip_policy_sends_nothing():
    h = harness()
    h.obj["metadata"]["annotations"] = {"acr-operator.dev/reconcile-policy": "skip"}

    await h.step()

    assert h.arm.requests == []
    assert h.condition("Ready")["reason"] == "Skipped"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_delete_releases_at_once_without_arm(mode):
    h = harness(mode)
    await h.step()
    h.arm.requests.clear()

    outcome = await h.step(deleting=True)

    assert outcome.done
    assert h.arm.requests == []
