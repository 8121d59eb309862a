"""Two objects on one ARM id: only the one whose status.id contains it writes or deletes."""

from __future__ import annotations

from tests.unit.fakes import REGISTRY_ID, FakeArm, Harness, registry


def _pair() -> tuple[Harness, Harness]:
    """A Registry that created the resource, and a second one placed on the same ARM id."""
    arm = FakeArm()
    first = Harness(registry(), arm=arm)
    second_obj = registry()
    second_obj["metadata"].update(namespace="b", uid="uid-second")
    second = Harness(second_obj, arm=arm)
    # The index lower-cases ARM ids; the lookup must match whatever case status.id has.
    second.resolver.add_claim("Registry", REGISTRY_ID.upper(), "default", "main", "uid-main")
    return first, second


async def test_claimed_id_stalls_without_any_arm_request():
    first, second = _pair()
    await first.step()
    first.arm.requests.clear()

    outcome = await second.step()

    assert second.arm.requests == []
    ready = second.condition("Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "AzureResourceClaimed"
    assert ready["message"].startswith(f"Registry default/main already manages {REGISTRY_ID};")
    assert second.condition("Stalled")["status"] == "True"
    assert "id" not in second.obj["status"]
    assert second.effects.reasons() == ["AzureResourceClaimed"]
    assert 600 <= outcome.delay <= 660


async def test_claim_released_then_created():
    _, second = _pair()
    await second.step()
    second.resolver.claims.clear()

    await second.step()

    assert second.arm.methods()[-2:] == ["PUT", "GET"]
    assert second.obj["status"]["id"] == REGISTRY_ID
    assert second.condition("Ready")["status"] == "True"


async def test_own_claim_and_held_id_do_not_stall():
    first, second = _pair()
    first.resolver.add_claim("Registry", REGISTRY_ID, "default", "main", "uid-main")
    await first.step()
    assert first.condition("Ready")["status"] == "True"

    # An object whose status.id already contains the ARM id goes on, even if another claims it.
    second.obj["status"] = {"id": REGISTRY_ID}
    await second.step()
    assert second.condition("Ready")["status"] == "True"


async def test_deleting_the_unclaimed_duplicate_sends_no_delete():
    first, second = _pair()
    await first.step()
    await second.step()
    first.arm.requests.clear()

    outcome = await second.step(deleting=True)

    assert outcome.done
    assert second.arm.requests == []
    assert REGISTRY_ID.lower() in first.arm.resources


async def test_deleting_the_holder_still_deletes():
    first, _ = _pair()
    await first.step()
    first.resolver.add_claim("Registry", REGISTRY_ID, "default", "main", "uid-main")

    outcome = await first.step(deleting=True)

    assert outcome.done
    assert "DELETE" in first.arm.methods()
    assert REGISTRY_ID.lower() not in first.arm.resources
