"""Where a resource lives in ARM, and the ids and secrets its body points at.

Before anything is sent to ARM, the reconciler needs the resource's path
(subscription, resource group, parent, name), the ARM ids behind every
`...Ref` of the spec, and the values behind every `...SecretRef`. Each of
these may be missing for a while: the parent Registry is still creating,
the referenced ScopeMap does not exist yet, the Secret is applied after the
Webhook. Then `Waiting` says which one, and the reconcile tries again later
instead of failing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Protocol

from acr_operator.config import Settings
from acr_operator.reconciler import bodies
from acr_operator.reconciler.descriptors import KindDescriptor, descriptor_for, parse_id


class Resolver(Protocol):
    """Read access to other Kubernetes objects, in the same namespace except for `claimants`."""

    async def get_object(self, kind: str, namespace: str, name: str) -> dict | None:
        """The custom resource of `kind` (a dict with metadata and status), or None if absent."""

    async def get_secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """The decoded entries of a Secret, or None if it does not exist."""

    async def claimants(self, kind: str, arm_id: str) -> list[tuple[str, str, str]]:
        """Return the objects of `kind`, in any namespace, whose status.id is `arm_id`.

        The ids compare case-insensitively; each object comes as (namespace, name, uid).
        """


class Waiting(Exception):
    """Something the resource needs is not there yet (or never will be, if `stalled`).

    `reason` is a PascalCase condition reason and `message` tells the user
    what is missing. `on` names the object waited for, as (kind, name), so
    that its next change can wake the waiting object early.
    """

    def __init__(
            self,
            reason: str,
            message: str,
            *,
            stalled: bool = False,
            on: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.stalled = stalled
        self.on = on


@dataclasses.dataclass(frozen=True)
class Placement:
    """The resource's ARM path parameters and its ARM path (which is also its ARM id)."""

    params: Mapping[str, str]
    path: str


async def place(
        descriptor: KindDescriptor,
        obj: dict,
        *,
        resolver: Resolver,
        settings: Settings,
) -> Placement:
    """Compute the ARM path of `obj`; raise Waiting when a parent is not usable yet."""
    spec = obj.get("spec") or {}
    name = spec.get("azureName") or obj["metadata"]["name"]
    if descriptor.parent is None:
        params = _registry_params(spec, settings)
    else:
        params = dict(await _parent_params(descriptor, obj, resolver=resolver))
    for param, field in descriptor.extra_path_parameters.items():
        value = spec.get(field)
        if not value:
            raise Waiting(
                "MissingField", f"spec.{field} is required; set it and apply again.", stalled=True,
            )
        params[param] = value
    params[descriptor.name_parameter] = name
    return Placement(params=params, path=descriptor.arm_path(params))


async def place_action(descriptor: KindDescriptor, obj: dict, *, resolver: Resolver) -> Placement:
    """The ARM path of a one-shot kind's action, below the resource it acts on.

    That resource (the Registry of an ImageImport) must be Ready, because the
    object has no ARM id of its own that marks it as created.
    """
    params = dict(await _parent_params(descriptor, obj, resolver=resolver))
    return Placement(params=params, path=descriptor.arm_path(params))


async def resolve_references(
        descriptor: KindDescriptor,
        obj: dict,
        *,
        resolver: Resolver,
        created: bool,
) -> dict[str, Any]:
    """The ARM id (or list of ids) for every `...Ref` set in the spec, by id path.

    A referenced object must have an ARM id and be Ready; once this object
    exists in Azure, an id is enough (the referenced one may be updating).
    """
    spec = obj.get("spec") or {}
    namespace = obj["metadata"].get("namespace", "")
    resolved: dict[str, Any] = {}
    for reference in descriptor.references:
        ref = bodies.get_path(spec, reference.ref_path)
        if ref is None:
            continue
        refs = ref if reference.array else [ref]
        ids = []
        for item in refs:
            kind = item.get("kind") if item.get("kind") in reference.kinds else reference.kinds[0]
            target = await resolver.get_object(kind, namespace, item["name"])
            ids.append(_usable_id(
                target, kind=kind, name=item["name"], namespace=namespace,
                created=created, reason="WaitingForReference", field=f"spec.{reference.ref_path}",
            ))
        if reference.array:
            given = bodies.get_path(spec, reference.path) or []
            resolved[reference.path] = [*given, *(i for i in ids if i not in given)]
        else:
            resolved[reference.path] = ids[0]
    return resolved


async def resolve_secrets(
        descriptor: KindDescriptor,
        obj: dict,
        *,
        resolver: Resolver,
) -> dict[str, Any]:
    """The value of every secret input whose `...SecretRef` is set, by body path."""
    spec = obj.get("spec") or {}
    namespace = obj["metadata"].get("namespace", "")
    values: dict[str, Any] = {}
    for secret_input in descriptor.secret_inputs:
        ref = bodies.get_path(spec, secret_input.ref_path)
        if not ref:
            continue
        field = f"spec.{secret_input.ref_path}"
        data = await resolver.get_secret(namespace, ref["name"])
        if data is None:
            raise Waiting(
                "WaitingForSecret",
                f"Secret {ref['name']} named by {field} does not exist in namespace "
                f"{namespace}; create it.",
                on=("Secret", ref["name"]),
            )
        values[secret_input.path] = _secret_value(secret_input, ref, data, field=field)
    return values


def _registry_params(spec: dict, settings: Settings) -> dict[str, str]:
    subscription = spec.get("subscriptionId") or settings.subscription_id
    if not subscription:
        raise Waiting(
            "SubscriptionNotSet",
            "No subscription for this registry: set spec.subscriptionId, or "
            "ACR_OPERATOR_SUBSCRIPTION_ID in the operator's environment.",
            stalled=True,
        )
    return {"subscriptionId": subscription, "resourceGroupName": spec["resourceGroup"]}


async def _parent_params(
        descriptor: KindDescriptor,
        obj: dict,
        *,
        resolver: Resolver,
) -> Mapping[str, str]:
    spec = obj.get("spec") or {}
    parent = descriptor.parent
    assert parent is not None
    assert descriptor.parent_id_field and descriptor.parent_ref_field
    parent_id = spec.get(descriptor.parent_id_field)
    field = f"spec.{descriptor.parent_id_field}"
    if not parent_id:
        ref = spec.get(descriptor.parent_ref_field) or {}
        if not ref.get("name"):
            raise Waiting(
                "MissingParent",
                f"Set spec.{descriptor.parent_ref_field} (a {parent} in this namespace) "
                f"or {field} (an ARM id).",
                stalled=True,
            )
        namespace = obj["metadata"].get("namespace", "")
        target = await resolver.get_object(parent, namespace, ref["name"])
        created = bool((obj.get("status") or {}).get("id"))
        parent_id = _usable_id(
            target, kind=parent, name=ref["name"], namespace=namespace, created=created,
            reason="WaitingForParent", field=f"spec.{descriptor.parent_ref_field}",
        )
        field = f"status.id of {parent} {ref['name']}"
    params = parse_id(parent, parent_id)
    if params is None:
        raise Waiting(
            "InvalidParentId",
            f"{field} is not the ARM id of a {descriptor_for(parent).arm_type}: {parent_id}",
            stalled=True,
        )
    return params


def _usable_id(
        target: dict | None,
        *,
        kind: str,
        name: str,
        namespace: str,
        created: bool,
        reason: str,
        field: str,
) -> str:
    if target is None:
        raise Waiting(
            reason,
            f"{kind} {name} named by {field} does not exist in namespace {namespace}; "
            "create it, or point at another one.",
            on=(kind, name),
        )
    status = target.get("status") or {}
    arm_id = status.get("id")
    ready = _ready(status)
    if arm_id and (ready or created):
        return arm_id
    why = ready_reason(status)
    raise Waiting(
        reason,
        f"{kind} {name} is not Ready yet ({why}); this resource continues once it is.",
        on=(kind, name),
    )


def _ready(status: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or ()
    )


def ready_reason(status: dict) -> str:
    """The reason of an object's Ready condition, for messages about it."""
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            return condition.get("reason") or "no reason given"
    return "not reconciled yet"


def _secret_value(secret_input: Any, ref: dict, data: Mapping[str, str], *, field: str) -> Any:
    key = ref.get("key")
    if key is None:
        if secret_input.type == "map":
            return dict(data)
        raise Waiting("InvalidSecretRef", f"{field} needs a key.", stalled=True)
    if key not in data:
        raise Waiting(
            "WaitingForSecret",
            f"Secret {ref['name']} has no entry {key!r} (named by {field}); add it.",
            on=("Secret", ref["name"]),
        )
    value = data[key]
    if secret_input.type != "map":
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise Waiting(
            "InvalidSecretValue",
            f"Entry {key!r} of Secret {ref['name']} (named by {field}) must hold a JSON "
            "object of strings; fix the Secret.",
            on=("Secret", ref["name"]),
        )
    return parsed
