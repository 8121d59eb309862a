"""Building one CustomResourceDefinition per kind from its PUT body schema.

The apiserver validates before the operator sees anything. The spec schema
keeps the document's patterns, enums and limits and leaves out what Azure
sets itself. CEL rules freeze what Azure cannot change after create. So a
bad edit fails at `kubectl apply` with a message about the fix, instead of
coming back later as an ARM error.

A one-shot kind (ImageImport) gets the same treatment with two differences:
its whole spec is frozen, because an object stands for one run of its
action, and its status has the run's start, end and result.
"""

from __future__ import annotations

import re

from acr_operator import API_GROUP, API_VERSION
from acr_operator.codegen import kinds, operatorfields, schemas

# Formats that the apiserver checks the way ARM means them. `duration` is left out
# because ARM durations are ISO 8601 (P1D) but the apiserver expects Go's form (24h).
_KNOWN_FORMATS = {"date-time", "int32", "int64", "float", "double", "byte", "uuid"}

# Facts copied from the document onto scalar nodes.
_SCALAR_FACTS = ("enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
                 "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems")

# Bounds on our own fields, so the apiserver's CEL cost estimate stays small.
_K8S_NAME = {"type": "string", "minLength": 1, "maxLength": 253}
_ARM_ID_MAX = 1024

_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

# Descriptions, in our words, of the top-level fields of the ARM body.
_BODY_DESCRIPTIONS = {
    "location": "Azure region of the resource, for example westeurope.",
    "tags": "Azure tags, as string keys and values.",
    "sku": "Pricing tier of the registry.",
    "sku.name": "Tier name. Some features (replications, private endpoints, connected "
                "registries, ...) need Premium.",
    "identity": "Managed identities the resource uses to reach other Azure services.",
    "properties": "Resource settings, under the field names ARM uses.",
}


def build(kind: str, desc: dict, api: dict, descriptors: dict[str, dict]) -> dict:
    context = _Context(kind, desc, api, descriptors)
    version = {
        "name": API_VERSION,
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
        "additionalPrinterColumns": _printer_columns(desc),
        "schema": {"openAPIV3Schema": _root_schema(context)},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{desc['plural']}.{API_GROUP}",
            "labels": {"app.kubernetes.io/part-of": "acr-operator"},
        },
        "spec": {
            "group": API_GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": desc["plural"],
                "singular": desc["singular"],
                "shortNames": desc["shortNames"],
                "categories": ["acr"],
            },
            "scope": "Namespaced",
            "versions": [version],
        },
    }


def _printer_columns(desc: dict) -> list[dict]:
    ready = '.status.conditions[?(@.type=="Ready")]'
    column = desc["identifyingColumn"]
    return [
        {"name": "Ready", "type": "string", "jsonPath": f"{ready}.status"},
        {"name": "Reason", "type": "string", "jsonPath": f"{ready}.reason"},
        {"name": column["name"], "type": "string", "jsonPath": column["jsonPath"]},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


class _Context:
    """The kind being built and the generated facts it draws on."""

    def __init__(self, kind: str, desc: dict, api: dict, descriptors: dict[str, dict]) -> None:
        self.kind, self.desc, self.api = kind, desc, api
        parent = desc["parent"]
        self.parent_path = descriptors[parent]["resourcePath"] if parent else None
        self.one_shot = bool(desc.get("oneShot"))
        # Top-level kinds take their resource group's facts from the GET's path parameters.
        get_id = desc["operations"].get("get")
        get = next((op for op in api["operations"] if op["operationId"] == get_id), None)
        self.resource_group = get["pathParameters"]["resourceGroupName"] if get else None


def _root_schema(context: _Context) -> dict:
    kind, desc = context.kind, context.desc
    if context.one_shot:
        what = (f"{kind}: one run of the ARM action {desc['operations']['action']} on "
                f"{_a(_words(desc['parent']))}, sent once by acr-operator.")
    else:
        what = (f"{kind}: an Azure Container Registry resource of type {desc['armType']}, "
                "kept in line with spec by acr-operator.")
    root = {
        "description": what,
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": _spec_schema(context),
            "status": _status_schema(one_shot=context.one_shot),
        },
        "required": ["spec"],
    }
    rule = _name_rule(desc.get("name") or {})
    if rule:
        root["x-kubernetes-validations"] = [rule]
    return _ordered(root)


def _name_rule(name: dict) -> dict | None:
    """Build the rule that metadata.name is a valid Azure name when spec.azureName is absent."""
    if not any(key in name for key in ("pattern", "minLength", "maxLength")):
        return None
    low, high = name.get("minLength", 1), name.get("maxLength", 253)
    pattern = name.get("pattern", "^.*$")
    match = re.fullmatch(r"\^\[([^\]]+)\]\*\$", pattern)
    if match:
        # A plain `^[class]*$` takes the length limits as a quantifier.
        chars = match.group(1)
        pattern = f"^[{chars}]{{{low},{high}}}$"
        check = f"self.metadata.name.matches({_cel_string(pattern)})"
        words = f"{low}-{high} {_CLASS_WORDS.get(chars, f'characters from [{chars}]')}"
    else:
        size = "size(self.metadata.name)"
        check = (f"self.metadata.name.matches({_cel_string(pattern)}) && {size} >= {low} "
                 f"&& {size} <= {high}")
        words = f"{low}-{high} characters that match {pattern}"
    return {
        "rule": f"has(self.spec.azureName) || ({check})",
        "message": "spec.azureName is not set, so metadata.name is used as the Azure name, "
                   f"and it must be {words} ({pattern}); set spec.azureName to a name of "
                   f"{words}",
    }


# Character classes of ARM name patterns, in words.
_CLASS_WORDS = {
    "a-zA-Z0-9": "letters and digits",
    "a-zA-Z0-9-": "letters, digits and hyphens",
    "a-zA-Z0-9-_": "letters, digits, hyphens and underscores",
    "a-zA-Z": "letters",
}


def _spec_schema(context: _Context) -> dict:
    kind, desc = context.kind, context.desc
    spec = {"type": "object", "properties": {}}
    if desc["definition"]:
        ref = {"$ref": f"#/definitions/{desc['definition']}"}
        spec = structural(schemas.resolve(context.api["definitions"], ref)) or spec
    if context.one_shot:
        spec["description"] = ("The ARM action's request body, plus the resource it acts on. "
                               "Cannot change: create a new object to run the action again.")
    else:
        spec["description"] = ("Desired state: the ARM request body without the fields Azure "
                               "sets, plus where the resource lives.")
    for path, patch in kinds.SCHEMA_OVERRIDES.get(kind, {}).items():
        _at(spec, path).update(patch)
    operatorfields.add(kind, spec)
    for secret in desc["secretInputs"]:
        _add_secret_input(spec, secret)
    for ref in desc["references"]:
        _add_reference(spec, ref)
    if context.one_shot:
        _add_parent(spec, desc, context.parent_path)
        ref = desc["parentRef"]
        spec["properties"][ref["refField"]]["description"] = (
            f"The {desc['parent']} in this namespace that the action runs on. Give this or "
            f"{ref['idField']}.")
        _add_rule(spec, "self == oldSelf", f"spec is immutable: {_a(_words(kind))} runs its "
                                           f"action once; create a new {kind} to run it again")
    else:
        _add_placement(context, spec)
        _add_immutability(kind, spec, desc)
    for path, text in _BODY_DESCRIPTIONS.items():
        node = _find(spec, path)
        if node is not None:
            node["description"] = text
    return spec


def structural(node: dict) -> dict | None:
    """Convert a resolved schema into a structural one, or return None if it is read-only."""
    if node.get("readOnly"):
        return None
    if "$recursive" in node:
        # A cycle cannot be inlined, so the apiserver keeps whatever the user writes there.
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    kind = node.get("type") or _implied_type(node)
    if kind == "object":
        return _structural_object(node)
    if kind == "array":
        items = structural(node.get("items", {}))
        if items is None:
            return None
        out = {"type": "array", "items": items}
    else:
        out = {"type": kind}
    out.update({key: node[key] for key in _SCALAR_FACTS if key in node})
    if node.get("format") in _KNOWN_FORMATS:
        out["format"] = node["format"]
    return out


def _implied_type(node: dict) -> str:
    if "properties" in node or "additionalProperties" in node:
        return "object"
    return "string" if "enum" in node else "object"


def _structural_object(node: dict) -> dict | None:
    if "properties" in node:
        children = {name: structural(sub) for name, sub in node["properties"].items()}
        children = {name: sub for name, sub in children.items() if sub is not None}
        if not children:
            return None
        out = {"type": "object", "properties": children}
        required = [name for name in node.get("required", []) if name in children]
        if required:
            out["required"] = required
        return out
    if isinstance(node.get("additionalProperties"), dict):
        # A map: its values keep their shape even when all their fields are read-only.
        value = structural(node["additionalProperties"]) or {"type": "object"}
        return {"type": "object", "additionalProperties": value}
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _add_secret_input(spec: dict, secret: dict) -> None:
    holder_path, _, field = secret["path"].rpartition(".")
    holder = _at(spec, holder_path)
    holder["properties"].pop(field, None)
    ref_name = secret["refField"].rpartition(".")[2]
    key = {"type": "string", "minLength": 1, "maxLength": 253}
    ref = {
        "type": "object",
        "properties": {"name": dict(_K8S_NAME), "key": key},
        "required": ["name", "key"] if secret["keyRequired"] else ["name"],
    }
    if secret["type"] == "map":
        ref["description"] = (f"Secret in this namespace that holds {field}. With key, that "
                              "entry holds a JSON object; without key, each entry of the "
                              "Secret is one name and value.")
        key["description"] = "Entry of the Secret; leave out to use every entry."
    else:
        ref["description"] = f"Secret entry in this namespace that holds {field}."
    holder["properties"][ref_name] = ref
    if field in holder.get("required", []):
        holder["required"] = [ref_name if r == field else r for r in holder["required"]]


def _add_reference(spec: dict, ref: dict) -> None:
    holder_path, _, id_field = ref["path"].rpartition(".")
    holder = _at(spec, holder_path)
    target = _reference_schema(ref)
    holder["properties"][ref["refField"]] = target
    prefix = f"spec.{holder_path}." if holder_path else "spec."
    id_path, ref_path = prefix + id_field, prefix + ref["refField"]
    what = "ARM ids" if ref["array"] else "an ARM id"
    kinds_text = " or ".join(ref["kinds"])
    names = f"names of {kinds_text} objects" if ref["array"] else f"the name of {_a(kinds_text)}"
    if id_field in holder.get("required", []):
        # One of the two must still be given, so the pair replaces the required id.
        holder["required"] = [r for r in holder["required"] if r != id_field]
        rule = f"has(self.{id_field}) != has(self.{ref['refField']})"
        message = f"set exactly one of {id_path} ({what}) or {ref_path} ({names})"
    else:
        rule = f"!(has(self.{id_field}) && has(self.{ref['refField']}))"
        message = (f"set at most one of {id_path} ({what}) or {ref_path} ({names}); "
                   "remove one of them")
    _add_rule(holder, rule, message)


def _reference_schema(ref: dict) -> dict:
    names = " or ".join(ref["kinds"])
    one = {"type": "object", "properties": {"name": dict(_K8S_NAME)}, "required": ["name"]}
    if len(ref["kinds"]) > 1:
        one["properties"]["kind"] = {"type": "string", "enum": list(ref["kinds"])}
        one["required"] = ["kind", "name"]
    id_field = ref["path"].rpartition(".")[2]
    text = (f"{names} in this namespace whose ARM id the operator fills into {id_field}, once "
            "it is Ready. Give this or " + id_field + ", not both.")
    if ref["array"]:
        return {"description": text, "type": "array", "items": one, "maxItems": 100}
    return {"description": text, **one}


def _add_placement(context: _Context, spec: dict) -> None:
    desc = context.desc
    props = spec["properties"]
    props["azureName"] = {
        "description": "Name of the resource in Azure. Defaults to metadata.name; cannot "
                       "change after create.",
        **{k: v for k, v in desc["name"].items() if k != "type"},
        "type": "string",
    }
    for param, facts in desc["extraPathParameters"].items():
        props[facts["specField"]] = {
            "description": f"The {param} segment of the resource's ARM path; cannot change "
                           "after create.",
            **{k: v for k, v in facts.items() if k not in ("specField", "type")},
            "type": "string",
        }
        _require(spec, facts["specField"])
    if desc["parentRef"] is None:
        _add_scope(spec, context.resource_group)
    else:
        _add_parent(spec, desc, context.parent_path)


def _add_scope(spec: dict, resource_group: dict) -> None:
    spec["properties"]["resourceGroup"] = {
        "description": "Azure resource group that holds the registry; it must exist already. "
                       "Cannot change after create.",
        **resource_group,
    }
    spec["properties"]["subscriptionId"] = {
        "description": "Azure subscription of the resource group. Defaults to the operator's "
                       "configured subscription; cannot change after create.",
        "type": "string",
        "pattern": _UUID,
    }
    _require(spec, "resourceGroup")


def _add_parent(spec: dict, desc: dict, parent_path: str) -> None:
    parent, ref = desc["parent"], desc["parentRef"]
    props = spec["properties"]
    props[ref["refField"]] = {
        "description": f"The {parent} in this namespace that this resource belongs to. Give "
                       f"this or {ref['idField']}.",
        "type": "object",
        "properties": {"name": {**_K8S_NAME, "description": f"metadata.name of the {parent}."}},
        "required": ["name"],
    }
    pattern = _arm_id_pattern(parent_path)
    props[ref["idField"]] = {
        "description": f"ARM id of {_a(_words(parent))} this operator does not manage. Give this "
                       f"or {ref['refField']}.",
        "type": "string",
        "minLength": 1,
        "maxLength": _ARM_ID_MAX,
        "x-kubernetes-validations": [{
            # ARM ids compare case-insensitively, so the check lowers the value first.
            "rule": f"self.lowerAscii().matches({_cel_string(pattern.lower())})",
            "message": f"spec.{ref['idField']} must be the ARM id of {_a(_words(parent))}, of the "
                       f"form {parent_path}",
        }],
    }
    _add_rule(spec, f"has(self.{ref['refField']}) != has(self.{ref['idField']})",
              f"set exactly one of spec.{ref['refField']} ({_a(parent)} in this namespace) or "
              f"spec.{ref['idField']} (the ARM id of {_a(_words(parent))} managed elsewhere)")


def _arm_id_pattern(template: str) -> str:
    parts = []
    for segment in template.split("/")[1:]:
        parts.append("[^/]+" if segment.startswith("{") else segment.replace(".", "\\."))
    return "^/" + "/".join(parts) + "$"


def _add_immutability(kind: str, spec: dict, desc: dict) -> None:
    for path in desc["immutable"]:
        node = _find(spec, path)
        if node is None:
            continue
        reason = _immutable_reason(kind, path, desc)
        node.setdefault("x-kubernetes-validations", []).append(
            {"rule": "self == oldSelf", "message": f"spec.{path} is immutable: {reason}"})
        if not _always_present(spec, path):
            presence = _presence(path)
            _add_rule(spec, f"{presence('self')} == {presence('oldSelf')}",
                      f"spec.{path} cannot be added or removed after create: {reason}")


def _immutable_reason(kind: str, path: str, desc: dict) -> str:
    noun = _words(kind)
    instead = f"create a new {kind} instead"
    if path == "azureName":
        return f"Azure cannot rename {_a(noun)}; {instead}"
    if path in ("resourceGroup", "subscriptionId"):
        return f"Azure cannot move {_a(noun)} through this field; {instead}"
    if path == "location":
        return f"Azure cannot move {_a(noun)} to another region; {instead}"
    if desc["parentRef"] and path in desc["parentRef"].values():
        return f"{_a(noun)} cannot move to another {_words(desc['parent'])}; {instead}"
    if path in desc["extraPathParameters"]:
        return f"it is part of the {noun}'s ARM path; {instead}"
    return f"Azure accepts it only when the {noun} is created; {instead}"


def _always_present(spec: dict, path: str) -> bool:
    node = spec
    for part in path.split("."):
        if part not in node.get("required", []):
            return False
        node = node["properties"][part]
    return True


def _presence(path: str):
    parts = path.split(".")

    def expression(root: str) -> str:
        checks = [f"has({root}.{'.'.join(parts[:i + 1])})" for i in range(len(parts))]
        return checks[0] if len(checks) == 1 else "(" + " && ".join(checks) + ")"

    return expression


def _status_schema(*, one_shot: bool = False) -> dict:
    text = {"type": "string"}
    condition = {
        "type": "object",
        "properties": {
            "type": {**text, "description": "Ready, Reconciling or Stalled."},
            "status": {**text, "enum": ["True", "False", "Unknown"]},
            "reason": {**text, "description": "PascalCase code; ARM's error code when ARM "
                                              "refused a request."},
            "message": {**text, "description": "What happened and what to do about it."},
            "observedGeneration": {"type": "integer", "format": "int64"},
            "lastTransitionTime": {**text, "description": "RFC 3339 time of the last change "
                                                          "of status."},
        },
        "required": ["type", "status"],
    }
    operation = {
        "description": "The ARM long-running operation in flight, if any; lets a restarted "
                       "operator resume polling.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "kind": {**text, "description": "create, update, delete or action."},
            "url": {**text, "description": "URL polled for the outcome."},
            "style": {**text, "description": "azure-async-operation or location: the header "
                                             "the URL came from."},
            "startedAt": {**text, "description": "RFC 3339 time the operation started."},
            "nextPollAt": {**text, "description": "RFC 3339 time of the next poll."},
        },
    }
    if one_shot:
        return _one_shot_status_schema(condition, operation)
    return {
        "description": "Observed state, written by the operator: conditions, the ARM id, and "
                       "the fields of the last ARM read under their ARM names.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "id": {**text, "description": "ARM id of the resource."},
            "observedGeneration": {"type": "integer", "format": "int64",
                                   "description": "metadata.generation the last completed "
                                                  "reconcile acted on."},
            "provisioningState": {**text, "description": "ARM's provisioning state."},
            "conditions": {
                "type": "array",
                "items": condition,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            "operation": operation,
        },
    }


def _one_shot_status_schema(condition: dict, operation: dict) -> dict:
    text = {"type": "string"}
    result = {
        "description": "How the run ended, once it has.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "status": {**text, "enum": ["Succeeded", "Failed"]},
            "code": {**text, "description": "ARM's error code, when the run failed."},
            "message": {**text, "description": "ARM's error message, when the run failed."},
        },
    }
    return {
        "description": "Progress and outcome of the run, written by the operator.",
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "properties": {
            "observedGeneration": {"type": "integer", "format": "int64",
                                   "description": "metadata.generation the run acted on."},
            "conditions": {
                "type": "array",
                "items": condition,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            "startedAt": {**text, "description": "RFC 3339 time the action was sent to ARM."},
            "completedAt": {**text, "description": "RFC 3339 time the run ended."},
            "result": result,
            "operation": operation,
        },
    }


def _words(kind: str) -> str:
    """ConnectedRegistry -> connected registry."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", kind).lower()


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0].lower() in "aeiou" else f"a {noun}"


def _add_rule(node: dict, rule: str, message: str) -> None:
    node.setdefault("x-kubernetes-validations", []).append({"rule": rule, "message": message})


def _require(node: dict, name: str) -> None:
    node["required"] = sorted({*node.get("required", []), name})


def _find(spec: dict, path: str) -> dict | None:
    node = spec
    for part in path.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def _at(spec: dict, path: str) -> dict:
    node = _find(spec, path) if path else spec
    if node is None:
        raise KeyError(f"spec has no field {path!r}")
    return node


def _cel_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Keys of a schema node in the order a reader expects them.
_KEY_ORDER = ("description", "type", "format", "enum", "pattern", "minLength", "maxLength",
              "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems",
              "maxItems", "required", "properties", "additionalProperties", "items")


def _ordered(node):
    if isinstance(node, list):
        return [_ordered(item) for item in node]
    if not isinstance(node, dict):
        return node
    keys = sorted(node, key=lambda k: (_KEY_ORDER.index(k) if k in _KEY_ORDER
                                       else len(_KEY_ORDER), k))
    out = {}
    for key in keys:
        if key == "properties" and isinstance(node[key], dict):
            out[key] = {name: _ordered(node[key][name]) for name in sorted(node[key])}
        elif key in ("x-kubernetes-validations", "enum", "required"):
            out[key] = node[key]
        else:
            out[key] = _ordered(node[key])
    return out
