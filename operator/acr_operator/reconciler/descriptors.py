"""Kind descriptors: everything the generic reconciler needs to know about one kind.

Most facts are generated (kinds.json and api.json, read through
`apimodel`): the ARM path template, the parent, the operations, the
create-only and write-only fields, the references and secret inputs. The
few real per-kind differences are hand-written hooks at the bottom of this
module, each with the reason it exists, in the spirit of Azure Service
Operator's per-resource extensions.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from acr_operator import apimodel

# Spec fields that place a resource in Azure. They are never part of an ARM body.
REGISTRY_PLACEMENT = ("azureName", "resourceGroup", "subscriptionId")


@dataclasses.dataclass(frozen=True)
class Reference:
    """An ARM id field that may instead be given as a reference to a custom resource.

    `path` is the dotted spec path of the id (`properties.scopeMapId`),
    `ref_path` that of the reference (`properties.scopeMapRef`), a `{name}`
    object, or a list of them when `array`.
    """

    path: str
    ref_path: str
    kinds: tuple[str, ...]
    array: bool


@dataclasses.dataclass(frozen=True)
class SecretInput:
    """A body field whose value comes from a Kubernetes Secret, never from the spec.

    `ref_path` names a `{name, key}` object in the spec. `type` is
    `string` (one entry) or `map` (a JSON object in one entry, or every
    entry of the Secret when no key is given).
    """

    path: str
    ref_path: str
    type: str
    key_required: bool


@dataclasses.dataclass(frozen=True)
class NameCheck:
    """A request to make before a create, asking ARM whether the name is free."""

    path: str
    body: dict


@dataclasses.dataclass(frozen=True)
class CreateHold:
    """A reason not to create a missing resource, with what must happen first."""

    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class KindDescriptor:
    """One custom resource kind and the ARM resource type it manages."""

    kind: str
    plural: str
    arm_type: str
    resource_path: str
    name_parameter: str
    parent: str | None
    parent_id_field: str | None
    parent_ref_field: str | None
    operations: Mapping[str, str | None]
    has_body: bool
    create_only: tuple[str, ...]
    write_only: tuple[str, ...]
    array_keys: Mapping[str, tuple[str, ...]]
    references: tuple[Reference, ...]
    secret_inputs: tuple[SecretInput, ...]
    update_path_map: Mapping[str, str]
    extra_path_parameters: Mapping[str, str]
    enum_paths: frozenset[str]
    update_fields: frozenset[str]
    # Spec fields the operator acts on itself (credential outputs); never sent to ARM.
    operator_fields: tuple[str, ...] = ()
    # A one-shot kind sends its action (operations["action"]) once per object; its
    # resource_path is the action's path and it has no ARM resource of its own.
    one_shot: bool = False
    # Hooks; see the bottom of the module.
    name_check: Callable[[KindDescriptor, dict, Mapping[str, str]], NameCheck] | None = None
    create_guard: (
        Callable[[KindDescriptor, dict, Mapping[str, str]], CreateHold | None] | None
    ) = None

    @property
    def has_update(self) -> bool:
        """True when the API has a PATCH for this kind, so changes go as a patch."""
        return bool(self.operations.get("update"))

    def placement_fields(self) -> tuple[str, ...]:
        """Top-level spec fields that place the resource and are not sent to ARM."""
        fields = ["azureName", *self.extra_path_parameters.values()]
        if self.parent is None:
            fields += ["resourceGroup", "subscriptionId"]
        else:
            fields += [f for f in (self.parent_id_field, self.parent_ref_field) if f]
        return tuple(fields)

    def arm_path(self, params: Mapping[str, str]) -> str:
        """The resource's ARM path from its path parameters (values are percent-encoded)."""
        return _fill(self.resource_path, params)

    def operation(self, verb: str) -> dict | None:
        """The api.json record of the get/create/update/delete operation, or None."""
        operation_id = self.operations.get(verb)
        return apimodel.operation(operation_id) if operation_id else None


def descriptor_for(kind: str) -> KindDescriptor:
    """The descriptor of `kind`; KeyError names the known kinds when it is unknown."""
    try:
        return descriptors()[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}; known: {', '.join(sorted(descriptors()))}") from None


@functools.cache
def descriptors() -> dict[str, KindDescriptor]:
    """Every kind of kinds.json, keyed by kind."""
    return {kind: _build(kind, facts) for kind, facts in apimodel.kinds().items()}


def parse_id(kind: str, arm_id: str) -> dict[str, str] | None:
    """The path parameters of an ARM id of `kind`, or None when it is not one."""
    descriptor = descriptor_for(kind)
    found = apimodel.match("GET", arm_id)
    if found is None or found[0]["operationId"] != descriptor.operations.get("get"):
        return None
    return found[1]


def _build(kind: str, facts: dict) -> KindDescriptor:
    parent_ref = facts.get("parentRef") or {}
    definitions = [facts.get("definition"), facts.get("getDefinition")]
    hooks = _HOOKS.get(kind, {})
    return KindDescriptor(
        kind=kind,
        plural=facts["plural"],
        arm_type=facts["armType"],
        resource_path=facts["resourcePath"],
        name_parameter=facts.get("nameParameter", ""),
        parent=facts.get("parent"),
        parent_id_field=parent_ref.get("idField"),
        parent_ref_field=parent_ref.get("refField"),
        operations=dict(facts["operations"]),
        has_body=facts.get("definition") is not None,
        create_only=tuple(facts.get("createOnly", ())),
        write_only=tuple(facts.get("writeOnly", ())),
        array_keys={path: tuple(keys) for path, keys in facts.get("arrayKeys", {}).items()},
        references=tuple(_reference(r) for r in facts.get("references", ())),
        secret_inputs=tuple(_secret_input(s) for s in facts.get("secretInputs", ())),
        update_path_map=dict(facts.get("updatePathMap", {})),
        extra_path_parameters={
            param: spec["specField"]
            for param, spec in facts.get("extraPathParameters", {}).items()
        },
        enum_paths=frozenset().union(*(enum_paths(d) for d in definitions if d)),
        update_fields=update_fields(facts.get("updateDefinition")),
        operator_fields=tuple(facts.get("operatorFields", ())),
        one_shot=bool(facts.get("oneShot")),
        **hooks,
    )


def _reference(facts: dict) -> Reference:
    # The reference sits beside the id it replaces: properties.scopeMapId and
    # properties.scopeMapRef; properties.clientTokenIds and properties.clientTokenRefs.
    parent, _, _ = facts["path"].rpartition(".")
    ref_path = f"{parent}.{facts['refField']}" if parent else facts["refField"]
    kinds = tuple(facts.get("kinds") or ([facts["kind"]] if facts.get("kind") else []))
    return Reference(path=facts["path"], ref_path=ref_path, kinds=kinds, array=facts["array"])


def _secret_input(facts: dict) -> SecretInput:
    return SecretInput(
        path=facts["path"], ref_path=facts["refField"],
        type=facts["type"], key_required=facts["keyRequired"],
    )


def enum_paths(definition: str) -> frozenset[str]:
    """Dotted paths (arrays transparent) whose values are enums in `definition`.

    ARM sometimes answers an enum in another case than it was sent
    (`enabled` vs `Enabled`), so the diff compares these case-insensitively.
    """
    found: set[str] = set()
    _walk(apimodel.definitions(), {"$ref": f"#/definitions/{definition}"}, "", found, ())
    return frozenset(found)


def update_fields(definition: str | None) -> frozenset[str]:
    """The fields a PATCH can carry: top-level names, and `properties.x` for properties."""
    if not definition:
        return frozenset()
    schema = _resolve(apimodel.definitions(), {"$ref": f"#/definitions/{definition}"})
    fields: set[str] = set()
    for name, sub in _properties(apimodel.definitions(), schema).items():
        if name == "properties":
            inner = _properties(apimodel.definitions(), _resolve(apimodel.definitions(), sub))
            fields.update(f"properties.{child}" for child in inner)
        else:
            fields.add(name)
    return frozenset(fields)


def _walk(defs: dict, schema: dict, path: str, found: set[str], seen: tuple[str, ...]) -> None:
    ref = schema.get("$ref")
    if ref:
        if ref in seen or len(seen) > 12:
            return  # recursive schemas (error details) add no enums worth comparing
        seen = (*seen, ref)
    schema = _resolve(defs, schema)
    if "enum" in schema and path:
        found.add(path)
    if schema.get("type") == "array" or "items" in schema:
        _walk(defs, schema.get("items", {}), path, found, seen)
    for name, sub in _properties(defs, schema).items():
        _walk(defs, sub, f"{path}.{name}" if path else name, found, seen)


def _resolve(defs: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _properties(defs: dict, schema: dict) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for part in schema.get("allOf", ()):
        merged.update(_properties(defs, _resolve(defs, part)))
    merged.update(schema.get("properties", {}))
    return merged


def _fill(template: str, params: Mapping[str, str]) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    if "{" in path:
        raise KeyError(f"path parameters missing for {template}: have {sorted(params)}")
    return path


# --- hooks: per-kind differences, each with its reason ----------------------------------

def _registry_name_check(
        descriptor: KindDescriptor,
        spec: dict,
        params: Mapping[str, str],
) -> NameCheck:
    body: dict[str, Any] = {
        "name": params["registryName"],
        "type": descriptor.arm_type,
        "resourceGroupName": params["resourceGroupName"],
    }
    scope = (spec.get("properties") or {}).get("autoGeneratedDomainNameLabelScope")
    if scope:
        body["autoGeneratedDomainNameLabelScope"] = scope
    path = _fill(
        apimodel.operation("Registries_CheckNameAvailability")["path"],
        {"subscriptionId": params["subscriptionId"]},
    )
    return NameCheck(path=path, body=body)


def _connection_must_be_requested(
        descriptor: KindDescriptor,
        spec: dict,
        params: Mapping[str, str],
) -> CreateHold:
    name = params[descriptor.name_parameter]
    return CreateHold("ConnectionNotRequested", (
        f"Registry {params['registryName']} has no private endpoint connection {name} yet. A "
        "private endpoint must request it first (its owner creates the endpoint with a "
        "connection to this registry); the operator then approves or rejects it as the spec "
        "says."
    ))


_HOOKS: dict[str, dict[str, Any]] = {
    # Registry names are global DNS labels (<name>.azurecr.io): ask first, so that a
    # name taken elsewhere stalls with ARM's own reason instead of a failed create.
    "Registry": {"name_check": _registry_name_check},
    # A private endpoint connection is requested by the endpoint's owner, in
    # Microsoft.Network; the registry side only approves, rejects or removes it. A PUT
    # for a connection that no endpoint requested would make a connection to no endpoint,
    # so a missing one is waited for, never created.
    "PrivateEndpointConnection": {"create_guard": _connection_must_be_requested},
}
