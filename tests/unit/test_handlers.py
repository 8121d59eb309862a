"""The kopf glue: registration for every kind, status merge patches, snapshots."""

from __future__ import annotations

import kopf

from acr_operator import handlers
from acr_operator.reconciler.descriptors import descriptors


def test_every_kind_gets_a_worker_a_delete_handler_and_an_index():
    registry = handlers.register(kopf.OperatorRegistry())
    ids = {handler.id for handler in registry._spawning.get_all_handlers()}
    ids |= {handler.id for handler in registry._changing.get_all_handlers()}
    ids |= {handler.id for handler in registry._indexing.get_all_handlers()}
    for kind in descriptors():
        assert f"{kind}.reconcile" in ids
        assert f"{kind}.delete" in ids
        assert f"{kind.lower()}_index" in ids


def test_merge_patch_sends_only_what_changed_and_nulls_what_went():
    old = {"id": "/x", "operation": {"url": "u"}, "properties": {"a": 1, "b": 2},
           "conditions": [{"type": "Ready", "status": "False"}]}
    new = {"id": "/x", "properties": {"a": 1, "b": 3},
           "conditions": [{"type": "Ready", "status": "True"}]}
    assert handlers.merge_patch(old, new) == {
        "operation": None, "properties": {"b": 3},
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    assert handlers.merge_patch(new, new) == {}


async def test_effects_skip_the_api_when_nothing_changed():
    calls = []

    class Kube:
        async def patch_status(self, **kwargs):
            calls.append(kwargs)

    state = handlers.ObjectState(kind="Registry", namespace="ns", name="r")
    body = {"status": {"id": "/x"}}
    effects = handlers.KubeEffects(body, state, Kube(), "registries")

    await effects.patch_status({"id": "/x"})
    await effects.patch_status({"id": "/x", "observedGeneration": 1})

    assert calls == [{"namespace": "ns", "plural": "registries", "name": "r",
                      "patch": {"observedGeneration": 1}}]
    assert state.status == {"id": "/x", "observedGeneration": 1}


def test_snapshot_prefers_the_status_last_written():
    state = handlers.ObjectState(kind="Registry", namespace="ns", name="r")
    body = {"apiVersion": "v", "kind": "Registry", "metadata": {"name": "r"}, "spec": {"a": 1},
            "status": {"old": True}}
    assert handlers._snapshot(body, state)["status"] == {"old": True}
    state.status = {"new": True}
    snapshot = handlers._snapshot(body, state)
    assert snapshot["status"] == {"new": True}
    snapshot["spec"]["a"] = 2
    assert body["spec"]["a"] == 1
