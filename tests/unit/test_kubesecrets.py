"""Owned Secrets: manifests, merge patches, ownership, secretKeyRef reads, the Secret watch."""

from __future__ import annotations

import base64
import json

import pytest

from acr_operator import handlers
from acr_operator.reconciler import kubesecrets, secretwatch
from acr_operator.reconciler.context import SecretConflict
from acr_operator.reconciler.placement import Waiting
from tests.unit.fakes import FakeResolver, webhook
from tests.unit.secretfakes import token

OWNER = {"kind": "Token", "metadata": {"name": "tok", "uid": "uid-tok"}}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _owned_secret(**data: str) -> dict:
    return kubesecrets.manifest("s", "ns", owner=OWNER, string_data=data,
                                annotations={"acr-operator.dev/credentials": "{}"})


def test_manifest_is_owned_and_encoded():
    secret = kubesecrets.manifest("s", "ns", owner=OWNER, string_data={"password1": "p"},
                                  labels={"team": "a"})
    assert secret["data"] == {"password1": _b64("p")}
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["labels"] == {"team": "a",
                                            "app.kubernetes.io/managed-by": "acr-operator"}
    reference = secret["metadata"]["ownerReferences"][0]
    assert reference["uid"] == "uid-tok"
    assert reference["controller"] is True
    assert reference["blockOwnerDeletion"] is False
    assert kubesecrets.is_owned(secret, "uid-tok")
    assert not kubesecrets.is_owned(secret, "uid-other")


def test_patch_empty_when_nothing_differs():
    secret = _owned_secret(username="u", password1="p")
    patch = kubesecrets.patch(secret, string_data={"username": "u", "password1": "p"},
                              annotations={"acr-operator.dev/credentials": "{}"})
    assert patch == {}


def test_patch_changes_and_removes_entries():
    secret = _owned_secret(username="u", password1="p", password2="q")
    patch = kubesecrets.patch(secret, string_data={"username": "u", "password1": "new"},
                              annotations={"acr-operator.dev/credentials": "{}"})
    assert patch == {"data": {"password1": _b64("new"), "password2": None}}


def test_patch_keeps_labels_and_annotations_of_others():
    secret = _owned_secret(username="u")
    secret["metadata"]["labels"]["team"] = "a"
    secret["metadata"]["annotations"]["example.com/note"] = "kept"
    patch = kubesecrets.patch(secret, string_data={"username": "u"}, annotations={})
    assert patch == {"metadata": {"annotations": {"acr-operator.dev/credentials": None}}}


def test_patch_rejects_another_type():
    secret = _owned_secret(username="u")
    with pytest.raises(SecretConflict) as raised:
        kubesecrets.patch(secret, string_data={}, type=kubesecrets.DOCKERCONFIG_TYPE)
    assert raised.value.reason == "SecretTypeMismatch"


def test_foreign_secret_is_not_owned():
    foreign = {"metadata": {"name": "s", "namespace": "ns",
                            "ownerReferences": [{"uid": "uid-tok", "controller": False}]}}
    with pytest.raises(SecretConflict) as raised:
        kubesecrets.owned(foreign, OWNER)
    assert raised.value.reason == "SecretNotOwned"
    assert "Secret s in namespace ns" in raised.value.message


def test_owned_decodes_values():
    secret = _owned_secret(username="u")
    owned = kubesecrets.owned(secret, OWNER)
    assert owned.data == {"username": "u"}
    assert owned.annotations == {"acr-operator.dev/credentials": "{}"}


def test_dockerconfigjson_as_kubelet_reads_it():
    document = json.loads(kubesecrets.dockerconfigjson("r.azurecr.io", "tok", "pw"))
    entry = document["auths"]["r.azurecr.io"]
    assert entry["username"] == "tok"
    assert entry["password"] == "pw"
    assert base64.b64decode(entry["auth"]).decode() == "tok:pw"


async def test_read_secret_key_returns_the_value():
    resolver = FakeResolver()
    resolver.secrets[("ns", "src")] = {"password": "pw"}
    value = await kubesecrets.read_secret_key(
        resolver, "ns", {"name": "src", "key": "password"}, field="spec.x")
    assert value == "pw"


@pytest.mark.parametrize(("secrets", "ref", "reason"), [
    ({}, {"name": "src", "key": "password"}, "WaitingForSecret"),
    ({("ns", "src"): {"other": "x"}}, {"name": "src", "key": "password"}, "WaitingForSecret"),
    ({}, {"name": "src"}, "InvalidSecretRef"),
])
async def test_read_secret_key_waits(secrets, ref, reason):
    resolver = FakeResolver()
    resolver.secrets.update(secrets)
    with pytest.raises(Waiting) as raised:
        await kubesecrets.read_secret_key(resolver, "ns", ref, field="spec.x")
    assert raised.value.reason == reason
    assert "spec.x" in raised.value.message


def test_watched_secrets_of_a_webhook():
    hook = webhook()
    hook["spec"]["properties"]["customHeadersSecretRef"] = {"name": "headers"}
    assert secretwatch.secret_names(hook) == {"hook", "headers"}


def test_watched_secrets_of_a_token():
    assert secretwatch.secret_names(token()) == {"tok-creds", "tok-creds-dockerconfig"}


class _Kube:
    """The Secret calls of KubeApi, over a dict of API objects."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []

    async def read_secret_object(self, *, namespace, name):
        return self.secrets.get(name)

    async def create_secret(self, *, namespace, body):
        self.calls.append(("create", body["metadata"]["name"]))
        self.secrets[body["metadata"]["name"]] = body

    async def patch_secret(self, *, namespace, name, patch):
        self.calls.append(("patch", name))
        self.secrets[name]["data"].update(patch.get("data") or {})


def _effects(kube: _Kube) -> handlers.KubeEffects:
    state = handlers.ObjectState(kind="Token", namespace="ns", name="tok")
    body = {"kind": "Token", "metadata": {"name": "tok", "namespace": "ns", "uid": "uid-tok"}}
    return handlers.KubeEffects(body, state, kube, "tokens")


async def test_kube_effects_create_then_patch_only_changes():
    kube = _Kube()
    effects = _effects(kube)

    assert await effects.apply_secret("s", string_data={"a": "1"}) is True
    assert await effects.apply_secret("s", string_data={"a": "1"}) is False
    assert await effects.apply_secret("s", string_data={"a": "2"}) is True

    assert kube.calls == [("create", "s"), ("patch", "s")]
    assert kube.secrets["s"]["metadata"]["ownerReferences"][0]["uid"] == "uid-tok"
    owned = await effects.read_owned_secret("s")
    assert owned.data == {"a": "2"}


async def test_kube_effects_refuse_foreign_secret():
    kube = _Kube()
    kube.secrets["s"] = {"metadata": {"name": "s", "namespace": "ns"}, "data": {}}
    effects = _effects(kube)

    with pytest.raises(SecretConflict):
        await effects.apply_secret("s", string_data={"a": "1"})
    with pytest.raises(SecretConflict):
        await effects.read_owned_secret("s")
    assert kube.calls == []


async def test_secret_watch_wakes_only_objects_naming_it():
    handlers._states.clear()
    named = handlers._states["a"] = handlers.ObjectState(kind="Webhook", namespace="ns",
                                                         name="a", secrets=frozenset({"hook"}))
    other = handlers._states["b"] = handlers.ObjectState(kind="Webhook", namespace="other",
                                                         name="b", secrets=frozenset({"hook"}))
    try:
        assert handlers.secret_in_use(namespace="ns", name="hook")
        assert not handlers.secret_in_use(namespace="ns", name="unrelated")

        await handlers.wake_on_secret({"type": "MODIFIED"}, namespace="ns", name="hook")

        assert named.kicked
        assert named.wake.is_set()
        assert not other.kicked
        assert not other.wake.is_set()
    finally:
        handlers._states.clear()


def test_secret_watch_is_registered_for_core_secrets():
    import kopf

    registry = handlers.register(kopf.OperatorRegistry())
    found = [h for h in registry._watching.get_all_handlers() if h.id == "Secret.wake"]
    assert len(found) == 1
    assert found[0].selector.group == ""
    assert found[0].selector.version == "v1"
    assert found[0].selector.plural == "secrets"
