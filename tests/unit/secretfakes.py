"""Test doubles for the credential hooks: Secrets in memory, and ARM's credential actions.

`SecretEffects` keeps Secrets as API objects (dicts with base64 `data`)
and builds them with the same `kubesecrets` functions that
`handlers.KubeEffects` uses, so ownership and patch rules are the real
ones. `CredentialArm` adds GenerateCredentials, ListCredentials and
RegenerateCredential to `FakeArm`. GenerateCredentials completes at once
(200) or runs as a Location-style operation (202) that `finish_actions()`
completes.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from typing import Any

from acr_operator.arm.client import ArmResponse
from acr_operator.arm.errors import ArmNotFound
from acr_operator.reconciler import kubesecrets
from acr_operator.reconciler.context import OwnedSecret
from tests.unit.fakes import ENDPOINT, FakeArm, FakeEffects, Harness

_COUNTER = itertools.count(1)


class SecretEffects(FakeEffects):
    """FakeEffects plus Secrets of one namespace, owned by the object `obj`."""

    def __init__(self, obj: dict) -> None:
        super().__init__()
        self.obj = obj
        self.namespace = obj["metadata"]["namespace"]
        self.secrets: dict[str, dict] = {}
        self.writes: list[str] = []

    # --- the Effects interface ----------------------------------------------------------

    async def read_owned_secret(self, name: str) -> OwnedSecret | None:
        secret = self.secrets.get(name)
        return None if secret is None else kubesecrets.owned(copy.deepcopy(secret), self.obj)

    async def apply_secret(self, name, *, string_data, type="Opaque", labels=None,
                           annotations=None) -> bool:
        secret = self.secrets.get(name)
        if secret is None:
            self.secrets[name] = kubesecrets.manifest(
                name, self.namespace, owner=self.obj, string_data=string_data, type=type,
                labels=labels, annotations=annotations)
            self.writes.append(name)
            return True
        kubesecrets.require_owner(secret, self.obj)
        patch = kubesecrets.patch(secret, string_data=string_data, type=type, labels=labels,
                                  annotations=annotations)
        if not patch:
            return False
        _merge_patch(secret, patch)
        self.writes.append(name)
        return True

    # --- test controls -------------------------------------------------------------------

    def values(self, name: str) -> dict[str, str]:
        return kubesecrets.decoded(self.secrets[name])

    def add_foreign(self, name: str) -> None:
        """Put a Secret of the same name that someone else made."""
        self.secrets[name] = {"metadata": {"name": name, "namespace": self.namespace},
                              "type": "Opaque", "data": {}}


class CredentialArm(FakeArm):
    """FakeArm with the registry's credential actions; `action_mode` is sync or location."""

    def __init__(self, *, action_mode: str = "sync", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.action_mode = action_mode
        self.token_passwords: dict[str, dict] = {}
        self.admin = {"password": _password(), "password2": _password()}
        self.actions: dict[str, dict] = {}

    def finish_actions(self) -> None:
        for action in self.actions.values():
            if not action["done"]:
                action["done"] = True
                action["result"] = action["effect"]()

    def generated(self) -> list[Any]:
        return [body for method, path, body in self.requests
                if method == "POST" and path.endswith("/generateCredentials")]

    async def request(self, method, path_or_url, *, body=None, params=None) -> ArmResponse:
        if path_or_url in self.actions:
            self.requests.append((method, path_or_url, None))
            action = self.actions[path_or_url]
            if not action["done"]:
                return ArmResponse(202, {"Location": path_or_url, "Retry-After": "5"}, None)
            return ArmResponse(200, {}, copy.deepcopy(action["result"]))
        if method == "POST" and path_or_url.endswith("/generateCredentials"):
            self.requests.append((method, path_or_url, copy.deepcopy(body)))
            return self._action(lambda: self._generate(body))
        if method == "POST" and path_or_url.endswith("/listCredentials"):
            self.requests.append((method, path_or_url, copy.deepcopy(body)))
            return ArmResponse(200, {}, self._admin_answer())
        if method == "POST" and path_or_url.endswith("/regenerateCredential"):
            self.requests.append((method, path_or_url, copy.deepcopy(body)))
            self.admin[body["name"]] = _password()
            return ArmResponse(200, {}, self._admin_answer())
        return await super().request(method, path_or_url, body=body, params=params)

    def _action(self, effect) -> ArmResponse:
        if self.action_mode == "sync":
            return ArmResponse(200, {}, effect())
        url = f"{ENDPOINT}/subscriptions/s/providers/op/operationResults/{uuid.uuid4().hex}"
        self.actions[url] = {"done": False, "effect": effect, "result": None}
        return ArmResponse(202, {"Location": url, "Retry-After": "5"}, None)

    def _generate(self, body: dict) -> dict:
        token_id = body["tokenId"]
        if token_id.lower() not in self.resources:
            raise ArmNotFound("no token", status=404, code="TokenNotFound")
        stamp = f"2026-01-01T12:00:{next(_COUNTER) % 60:02d}Z"
        password = {"name": body["name"], "value": _password(), "creationTime": stamp}
        if body.get("expiry"):
            password["expiry"] = body["expiry"]
        self.token_passwords[body["name"]] = password
        listed = self.resources[token_id.lower()].setdefault("properties", {}).setdefault(
            "credentials", {})
        listed["passwords"] = [{k: v for k, v in p.items() if k != "value"}
                               for _, p in sorted(self.token_passwords.items())]
        return {"username": token_id.rsplit("/", 1)[-1], "passwords": [copy.deepcopy(password)]}

    def _admin_answer(self) -> dict:
        return {"username": "myregistry",
                "passwords": [{"name": n, "value": v} for n, v in self.admin.items()]}


def token(**passwords: Any) -> dict:
    """A Token object with spec.passwords as given (secretName defaults to tok-creds)."""
    from tests.unit.fakes import _object

    spec = {"registryRef": {"name": "main"}, "azureName": "tok01",
            "properties": {"scopeMapId": "/x/scopeMaps/_repositories_pull"},
            "passwords": {"secretName": "tok-creds", **passwords}}
    return _object("Token", "tok", spec)


def harness(obj: dict, *, arm: CredentialArm | None = None,
            registry_id: str | None = None) -> Harness:
    """A Harness whose effects hold Secrets and whose ARM has a registry with a login server."""
    from tests.unit.fakes import REGISTRY_ID

    arm = arm or CredentialArm()
    run = Harness(obj, arm=arm)
    run.effects = SecretEffects(obj)
    run.ctx.effects = run.effects
    registry = registry_id or REGISTRY_ID
    # Matches fakes.registry(), so a Registry object finds nothing to write.
    arm.resources[registry.lower()] = {
        "id": registry, "name": "myregistry", "location": "westus2", "sku": {"name": "Premium"},
        "properties": {"loginServer": "myregistry.azurecr.io", "provisioningState": "Succeeded",
                       "adminUserEnabled": True},
    }
    run.resolver.add_ready("Registry", "main", registry)
    return run


def _password() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex[:20]


def _merge_patch(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
