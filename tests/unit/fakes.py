"""Test doubles for the engine: an in-memory ARM, recorded effects, a resolver, a clock.

`FakeArm` implements the one method the engine calls (`request`) over a
small store of resources, answering the way recorded ACR traffic does:
synchronous 200 writes, or 201/202 with Go-canonical `Azure-Asyncoperation`
and `Location` headers, polled until `finish_operations()` is called.
Faults are queued per method and path fragment. The actions and lists that
after-ready hooks call on a Ready resource (usages, webhook events, ...)
return the bodies in `hook_responses`. `methods()` leaves these calls out,
so engine tests see only the engine's own requests, and `hook_calls()`
lists them.
"""

from __future__ import annotations

import copy
import datetime
import logging
import uuid
from typing import Any

from acr_operator.arm.client import ArmResponse
from acr_operator.arm.errors import ArmError, ArmNotFound
from acr_operator.config import Settings
from acr_operator.reconciler.context import Context

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
ENDPOINT = "https://management.azure.com"
REGISTRY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/"
    "Microsoft.ContainerRegistry/registries/myregistry"
)


class FakeArm:
    def __init__(self, *, mode: str = "sync", retry_after: str = "10") -> None:
        self.mode = mode  # "sync": writes answer 200; "async": 201/202 and polling
        self.retry_after = retry_after
        self.resources: dict[str, dict] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.faults: list[tuple[str, str, BaseException]] = []
        self.operations: dict[str, dict] = {}
        self.name_answer: dict = {"nameAvailable": True}
        # Response bodies of hook calls, by the last segment of their path.
        self.hook_responses: dict[str, Any] = {
            "listUsages": {"value": []},
            "privateLinkResources": {"value": []},
            "listEvents": {"value": []},
            "ping": {"id": "00000000-0000-0000-0000-0000000000e1"},
            "deactivate": None,
        }

    # --- test controls ---------------------------------------------------------------

    def fail(self, method: str, contains: str, error: BaseException) -> None:
        """Raise `error` for the next `method` request whose path contains `contains`."""
        self.faults.append((method, contains, error))

    def finish_operations(self, status: str = "Succeeded") -> None:
        for op in self.operations.values():
            op["done"] = True
            op["status"] = status
            path = op["path"]
            if op["kind"] == "delete":
                self.resources.pop(path.lower(), None)
            elif path.lower() in self.resources:
                props = self.resources[path.lower()].setdefault("properties", {})
                props["provisioningState"] = "Failed" if status == "Failed" else "Succeeded"

    def writes(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] in ("PUT", "PATCH", "DELETE")]

    def methods(self) -> list[str]:
        return [method for method, path, _ in self.requests if not self._is_hook_call(path)]

    def hook_calls(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if self._is_hook_call(r[1])]

    def _is_hook_call(self, path: str) -> bool:
        return not path.startswith("https://") and path.rsplit("/", 1)[-1] in self.hook_responses

    # --- the ArmRequester interface ----------------------------------------------------

    async def request(self, method, path_or_url, *, body=None, params=None) -> ArmResponse:
        self.requests.append((method, path_or_url, copy.deepcopy(body)))
        for index, (fault_method, contains, error) in enumerate(self.faults):
            if fault_method == method and contains in path_or_url:
                del self.faults[index]
                raise error
        if path_or_url.startswith("https://"):
            return self._poll(path_or_url)
        if path_or_url.endswith("/checkNameAvailability"):
            return ArmResponse(200, {}, copy.deepcopy(self.name_answer))
        if self._is_hook_call(path_or_url):
            return ArmResponse(200, {}, copy.deepcopy(self.hook_responses[
                path_or_url.rsplit("/", 1)[-1]]))
        handler = getattr(self, f"_{method.lower()}")
        return handler(path_or_url, body)

    def _get(self, path: str, body: Any) -> ArmResponse:
        stored = self.resources.get(path.lower())
        if stored is None:
            raise ArmNotFound("not found", status=404, code="ResourceNotFound")
        return ArmResponse(200, {}, copy.deepcopy(stored))

    def _put(self, path: str, body: Any) -> ArmResponse:
        stored = copy.deepcopy(body or {})
        stored.update(id=path, name=path.rsplit("/", 1)[-1], type="fake")
        stored.setdefault("properties", {})["provisioningState"] = (
            "Succeeded" if self.mode == "sync" else "Creating"
        )
        stored.setdefault("systemData", {"createdBy": "someone"})
        self.resources[path.lower()] = stored
        if self.mode == "sync":
            return ArmResponse(200, {}, copy.deepcopy(stored))
        return self._start("create", path, 201, "Azure-Asyncoperation", stored)

    def _patch(self, path: str, body: Any) -> ArmResponse:
        stored = self.resources.get(path.lower())
        if stored is None:
            raise ArmNotFound("not found", status=404, code="ResourceNotFound")
        _merge(stored, body or {})
        return ArmResponse(200, {}, copy.deepcopy(stored))

    def _delete(self, path: str, body: Any) -> ArmResponse:
        if path.lower() not in self.resources:
            return ArmResponse(204, {}, None)
        if self.mode == "sync":
            del self.resources[path.lower()]
            return ArmResponse(200, {}, None)
        self.resources[path.lower()]["properties"]["provisioningState"] = "Deleting"
        return self._start("delete", path, 202, "Location", None)

    def _start(self, kind: str, path: str, status: int, header: str, body: Any) -> ArmResponse:
        name = uuid.uuid4().hex
        style = "operationStatuses" if header != "Location" else "operationResults"
        url = f"{ENDPOINT}{path}/{style}/{name}?api-version=2025-06-01-preview&t=1&s=sig"
        self.operations[url] = {"kind": kind, "path": path, "done": False, "status": "InProgress"}
        headers = {header: url, "Retry-After": self.retry_after}
        return ArmResponse(status, headers, copy.deepcopy(body))

    def _poll(self, url: str) -> ArmResponse:
        op = self.operations.get(url)
        if op is None:
            raise ArmNotFound("no such operation", status=404, code="NotFound")
        if "operationResults" in url:
            if not op["done"]:
                return ArmResponse(202, {"Retry-After": self.retry_after}, None)
            return ArmResponse(200, {}, None)
        answer: dict = {"status": op["status"]}
        if op["status"] == "Failed":
            answer["error"] = {"code": "InternalServerError", "message": "it broke"}
        headers = {} if op["done"] else {"Retry-After": self.retry_after}
        return ArmResponse(200, headers, answer)


class FakeEffects:
    def __init__(self) -> None:
        self.status: dict | None = None
        self.patches = 0
        self.events: list[tuple[str, str, str]] = []
        # Raised by ensure_writable: the object was deleted behind the worker's back.
        self.gone: BaseException | None = None

    async def ensure_writable(self) -> None:
        if self.gone is not None:
            raise self.gone

    async def patch_status(self, status: dict) -> None:
        if status != self.status:
            self.patches += 1
        self.status = copy.deepcopy(status)

    def post_event(self, type: str, reason: str, message: str) -> None:
        self.events.append((type, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]


class FakeResolver:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.claims: dict[tuple[str, str], list[tuple[str, str, str]]] = {}

    def add_ready(self, kind: str, name: str, arm_id: str, *, namespace: str = "default") -> None:
        self.objects[(kind, namespace, name)] = {"status": {
            "id": arm_id,
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}],
        }}

    async def get_object(self, kind, namespace, name):
        return copy.deepcopy(self.objects.get((kind, namespace, name)))

    async def get_secret(self, namespace, name):
        return self.secrets.get((namespace, name))

    async def claimants(self, kind, arm_id):
        return [claim for (claim_kind, claim_id), claims in self.claims.items()
                if claim_kind == kind and claim_id.lower() == arm_id.lower() for claim in claims]

    def add_claim(self, kind: str, arm_id: str, namespace: str, name: str, uid: str) -> None:
        self.claims.setdefault((kind, arm_id), []).append((namespace, name, uid))


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


def settings(**overrides: str) -> Settings:
    env = {
        "ACR_OPERATOR_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ACR_OPERATOR_RESYNC_SECONDS": "600",
        "ACR_OPERATOR_DEFAULT_POLL_SECONDS": "10",
        **overrides,
    }
    return Settings.from_env(env)


class Harness:
    """One object, the fakes around it, and `step()` to run a reconcile and keep its status."""

    def __init__(self, obj: dict, *, arm: FakeArm | None = None) -> None:
        self.obj = obj
        self.arm = arm or FakeArm()
        self.effects = FakeEffects()
        self.resolver = FakeResolver()
        self.clock = FakeClock()
        self.memory: dict = {}
        self.ctx = Context(
            client=self.arm, settings=settings(), resolver=self.resolver, effects=self.effects,
            logger=logging.getLogger("test.object"), memory=self.memory,
            now=self.clock, rand=lambda: 0.5,
        )

    async def step(self, *, deleting: bool = False):
        from acr_operator.reconciler import engine

        run = engine.delete if deleting else engine.reconcile
        outcome = await run(copy.deepcopy(self.obj), self.ctx)
        if self.effects.status is not None:
            self.obj["status"] = copy.deepcopy(self.effects.status)
        return outcome

    def bump(self, **spec_changes: Any) -> None:
        """Change the spec as `kubectl apply` would: new values, next generation."""
        self.obj["spec"].update(spec_changes)
        self.obj["metadata"]["generation"] += 1

    def condition(self, kind: str) -> dict:
        for condition in self.obj["status"]["conditions"]:
            if condition["type"] == kind:
                return condition
        raise KeyError(kind)


def registry(**spec: Any) -> dict:
    base = {
        "resourceGroup": "rg1", "location": "westus2", "azureName": "myregistry",
        "sku": {"name": "Premium"},
    }
    base.update(spec)
    return _object("Registry", "main", base)


def webhook(**spec: Any) -> dict:
    base = {
        "registryRef": {"name": "main"}, "location": "westus2", "azureName": "hook01",
        "properties": {"actions": ["push"], "serviceUriSecretRef": {"name": "hook", "key": "uri"}},
    }
    base.update(spec)
    return _object("Webhook", "hook", base)


def _object(kind: str, name: str, spec: dict) -> dict:
    return {
        "apiVersion": "acr-operator.dev/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": 1,
                     "finalizers": ["acr-operator.dev/finalizer"]},
        "spec": spec,
    }


def _merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict) and key != "tags":
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def throttled(seconds: float) -> ArmError:
    from acr_operator.arm.errors import ArmThrottled

    return ArmThrottled("slow down", status=429, code="TooManyRequests", retry_after=seconds)
