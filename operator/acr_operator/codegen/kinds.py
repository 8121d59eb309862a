"""Kind descriptors: which ARM resource type each custom resource kind maps to.

Most facts (paths, operations, name rules, parent, create-only fields) are
read from the document. The rest (Kubernetes names, printer columns, which
ids point at which kind, secret inputs) is declared in `KINDS` and the
override tables below, and each override comes with its reason.

An ARM action that is not a resource and must not run twice for one request
(ImportImage) gets a one-shot kind in `ONE_SHOT_KINDS`. As with a Job, each
object runs the action once (see reconciler.oneshot), and its spec is the
action's request body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from acr_operator.codegen import operatorfields, schemas, swagger

# Path parameters that place a top-level resource. Every kind's path starts with them.
SCOPE_PARAMETERS = ("subscriptionId", "resourceGroupName")


@dataclass(frozen=True)
class Kind:
    """Facts about a kind that the document does not contain."""

    group: str  # operationId prefix, e.g. "Replications"
    plural: str
    short_name: str
    column: tuple[str, str]  # identifying printer column: name, JSONPath
    references: tuple[dict, ...] = ()
    create_only_extra: tuple[str, ...] = ()
    update_path_map: dict[str, str] = field(default_factory=dict)
    secret_inputs: tuple[dict, ...] = ()


def _ref(path: str, ref_field: str, *kinds: str, array: bool = False) -> dict:
    return {"path": path, "refField": ref_field, "kinds": list(kinds), "array": array}


_PROVISIONING = ("ProvisioningState", ".status.provisioningState")

KINDS: dict[str, Kind] = {
    "Registry": Kind("Registries", "registries", "acrreg",
                     ("LoginServer", ".status.properties.loginServer")),
    "Replication": Kind("Replications", "replications", "acrrepl",
                        ("Location", ".spec.location")),
    "Webhook": Kind(
        "Webhooks", "webhooks", "acrhook", _PROVISIONING,
        # GET never returns these fields, and they contain credentials, so they come from Secrets.
        secret_inputs=(
            {"path": "properties.serviceUri", "refField": "properties.serviceUriSecretRef",
             "type": "string", "keyRequired": True},
            {"path": "properties.customHeaders", "refField": "properties.customHeadersSecretRef",
             "type": "map", "keyRequired": False},
        ),
    ),
    "Token": Kind("Tokens", "tokens", "acrtoken", _PROVISIONING, references=(
        _ref("properties.scopeMapId", "scopeMapRef", "ScopeMap"),
    )),
    "ScopeMap": Kind("ScopeMaps", "scopemaps", "acrscope", _PROVISIONING),
    "CacheRule": Kind("CacheRules", "cacherules", "acrcache", _PROVISIONING, references=(
        _ref("properties.credentialSetResourceId", "credentialSetRef", "CredentialSet"),
    )),
    "CredentialSet": Kind("CredentialSets", "credentialsets", "acrcred", _PROVISIONING),
    "ConnectedRegistry": Kind(
        "ConnectedRegistries", "connectedregistries", "acrconn",
        ("ConnectionState", ".status.properties.connectionState"),
        references=(
            _ref("properties.parent.id", "connectedRegistryRef", "ConnectedRegistry"),
            _ref("properties.parent.syncProperties.tokenId", "tokenRef", "Token"),
            _ref("properties.clientTokenIds", "clientTokenRefs", "Token", array=True),
        ),
        # The PATCH model carries the parent's sync settings one level up.
        update_path_map={"properties.parent.syncProperties": "properties.syncProperties"},
    ),
    "ExportPipeline": Kind(
        "ExportPipelines", "exportpipelines", "acrexport", _PROVISIONING,
        # There is no PATCH model to compare with, and a PUT cannot move a resource's region.
        create_only_extra=("location",),
    ),
    "ImportPipeline": Kind(
        "ImportPipelines", "importpipelines", "acrimport", _PROVISIONING,
        # There is no PATCH model to compare with, and a PUT cannot move a resource's region.
        create_only_extra=("location",),
    ),
    "PipelineRun": Kind(
        "PipelineRuns", "pipelineruns", "acrrun",
        ("Status", ".status.properties.response.status"),
        references=(
            _ref("properties.request.pipelineResourceId", "pipelineRef",
                 "ExportPipeline", "ImportPipeline"),
        ),
    ),
    "PrivateEndpointConnection": Kind(
        "PrivateEndpointConnections", "privateendpointconnections", "acrpec", _PROVISIONING),
    "Archive": Kind("Archives", "archives", "acrarchive",
                    ("RepositoryEndpoint", ".status.properties.repositoryEndpoint")),
    "ArchiveVersion": Kind("ArchiveVersions", "archiveversions", "acrarchver", _PROVISIONING),
}



@dataclass(frozen=True)
class OneShot:
    """A kind that sends one ARM action once; its spec is the action's request body."""

    operation: str  # operationId of the action
    plural: str
    short_name: str
    column: tuple[str, str]
    references: tuple[dict, ...] = ()
    secret_inputs: tuple[dict, ...] = ()


ONE_SHOT_KINDS: dict[str, OneShot] = {
    "ImageImport": OneShot(
        "Registries_ImportImage", "imageimports", "acrimg", ("Target", ".spec.targetTags[0]"),
        # A source registry managed by this operator can be named instead of its ARM id.
        references=(_ref("source.resourceId", "registryRef", "Registry"),),
        # The source registry's password is a credential, so it comes from a Secret.
        secret_inputs=({"path": "source.credentials.password",
                        "refField": "source.credentials.passwordSecretRef",
                        "type": "string", "keyRequired": True},),
    ),
}

# Changes to the generated spec schema, as merge patches at dotted paths.
SCHEMA_OVERRIDES: dict[str, dict[str, dict]] = {
    "Registry": {
        # Classic is the retired storage-account tier, so new specs may use only the current
        # three. NOTE: whether ARM still rejects Classic on create was not checked.
        "sku.name": {"enum": ["Basic", "Standard", "Premium"]},
    },
    # The document leaves these strings and lists unbounded; bounds keep the cost of the
    # CEL rule that freezes the spec within what the apiserver accepts.
    "ImageImport": {
        "source": {
            "description": "Where the image comes from: exactly one of registryUri, resourceId "
                           "or registryRef, and the image in it.",
            "x-kubernetes-validations": [{
                "rule": "(has(self.registryUri) ? 1 : 0) + (has(self.resourceId) ? 1 : 0) + "
                        "(has(self.registryRef) ? 1 : 0) == 1",
                "message": "set exactly one of spec.source.registryUri (a registry host such "
                           "as docker.io), spec.source.resourceId (the ARM id of a registry) or "
                           "spec.source.registryRef (a Registry in this namespace)",
            }],
        },
        "source.sourceImage": {
            "description": "Image to copy: repository, repository:tag or "
                           "repository@sha256:digest (no tag means latest).",
            "minLength": 1, "maxLength": 1024,
        },
        "source.registryUri": {
            "description": "Host name of the source registry, for example docker.io.",
            "minLength": 1, "maxLength": 512,
        },
        "source.resourceId": {
            "description": "ARM id of the source Azure container registry.",
            "minLength": 1, "maxLength": 1024,
        },
        "source.credentials": {
            "description": "Login to the source registry, for a registryUri that needs one.",
        },
        "source.credentials.username": {"maxLength": 512},
        "targetTags": {
            "description": "Tags to create in the target registry, as repository:tag. Without "
                           "targetTags and untaggedTargetRepositories, the source's repository "
                           "and tag are used.",
            "maxItems": 100,
            "items": {"type": "string", "minLength": 1, "maxLength": 1024},
        },
        "untaggedTargetRepositories": {
            "description": "Repositories that receive the manifest without a tag.",
            "maxItems": 100,
            "items": {"type": "string", "minLength": 1, "maxLength": 1024},
        },
        "mode": {
            "description": "NoForce (the default) fails when a target tag exists already; "
                           "Force overwrites it.",
        },
    },
}

# Top-level body fields listed first in specFields, in this order.
_SPEC_FIELD_ORDER = ("location", "tags", "sku", "identity", "properties")


def build(api: dict, doc: dict) -> dict[str, dict]:
    ops = {op["operationId"]: op for op in api["operations"]}
    paths = {kind: _crud(ops, facts)["get"]["path"] for kind, facts in KINDS.items()}
    found = {kind: _descriptor(kind, facts, api, doc, ops, paths)
             for kind, facts in KINDS.items()}
    found.update({kind: _one_shot(kind, facts, api, ops, paths)
                  for kind, facts in ONE_SHOT_KINDS.items()})
    return found


def _crud(ops: dict, facts: Kind) -> dict[str, dict | None]:
    def find(*suffixes: str) -> dict | None:
        return next((ops[f"{facts.group}_{s}"] for s in suffixes
                     if f"{facts.group}_{s}" in ops), None)

    found = {
        "get": find("Get"),
        "create": find("Create", "CreateOrUpdate"),
        "update": find("Update"),
        "delete": find("Delete"),
        # Registries are listed per resource group, where the operator places them.
        "list": find("ListByResourceGroup", "List"),
    }
    missing = [verb for verb in ("get", "create", "delete", "list") if found[verb] is None]
    if missing:
        raise ValueError(f"{facts.group}: no operation for {', '.join(missing)}")
    return found


def _descriptor(kind: str, facts: Kind, api: dict, doc: dict, ops: dict,
                paths: dict[str, str]) -> dict:
    crud = _crud(ops, facts)
    path = crud["get"]["path"]
    name_param = _path_parameters(path)[-1]
    parent = _parent(kind, path, paths)
    put = _resolved(api, crud["create"]["body"])
    patch = _resolved(api, crud["update"]["body"]) if crud["update"] else None
    create_only = sorted({*_create_only(put, patch, facts.update_path_map),
                          *facts.create_only_extra})
    extra = _extra_path_parameters(path, paths.get(parent), name_param, crud["get"])
    return {
        "plural": facts.plural,
        "singular": kind.lower(),
        "shortNames": [facts.short_name],
        "armType": _arm_type(path),
        "resourcePath": path,
        "nameParameter": name_param,
        "name": {k: v for k, v in crud["get"]["pathParameters"][name_param].items()
                 if k != "type"},
        "parent": parent,
        "parentRef": _parent_ref(parent),
        "definition": crud["create"]["body"],
        "getDefinition": crud["get"]["responses"]["200"],
        "updateDefinition": crud["update"]["body"] if crud["update"] else None,
        "operations": {verb: op["operationId"] if op else None for verb, op in crud.items()},
        "actions": _actions(path, ops, paths),
        "createOnly": create_only,
        "immutable": _immutable(parent, create_only, extra, facts.references),
        "extraPathParameters": extra,
        "references": [{**r, "kind": r["kinds"][0] if len(r["kinds"]) == 1 else None}
                       for r in facts.references],
        "secretInputs": list(facts.secret_inputs),
        "writeOnly": [s["path"] for s in facts.secret_inputs],
        "updatePathMap": facts.update_path_map,
        "arrayKeys": _array_keys(doc, crud["create"]["body"]) if crud["create"]["body"] else {},
        "specFields": _spec_fields(put),
        # Spec fields the operator acts on itself; never part of an ARM body.
        "operatorFields": operatorfields.names(kind),
        "identifyingColumn": {"name": facts.column[0], "jsonPath": facts.column[1]},
    }


def _one_shot(kind: str, facts: OneShot, api: dict, ops: dict, paths: dict[str, str]) -> dict:
    """Describe a one-shot kind: its action, the kind it acts on, the fields of its body."""
    op = ops[facts.operation]
    if op["method"] != "POST" or not op["body"]:
        raise ValueError(f"{facts.operation}: a one-shot kind needs a POST with a body")
    target = _parent(kind, op["path"], paths)
    if target is None:
        raise ValueError(f"{facts.operation}: no kind owns the path {op['path']}")
    return {
        "oneShot": True,
        "plural": facts.plural,
        "singular": kind.lower(),
        "shortNames": [facts.short_name],
        "armType": _arm_type(paths[target]),
        "resourcePath": op["path"],
        "parent": target,
        "parentRef": _parent_ref(target),
        "definition": op["body"],
        "operations": {"action": facts.operation},
        "longRunning": bool(op.get("longRunning")),
        "references": [{**r, "kind": r["kinds"][0] if len(r["kinds"]) == 1 else None}
                       for r in facts.references],
        "secretInputs": list(facts.secret_inputs),
        "specFields": _spec_fields(_resolved(api, op["body"])),
        "identifyingColumn": {"name": facts.column[0], "jsonPath": facts.column[1]},
    }


def _resolved(api: dict, definition: str | None) -> dict:
    # A PUT without a body (ArchiveVersion) creates the resource from its path alone.
    if definition is None:
        return {"type": "object"}
    return schemas.resolve(api["definitions"], {"$ref": f"#/definitions/{definition}"})


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", path)


def _parent(kind: str, path: str, paths: dict[str, str]) -> str | None:
    # The parent is the kind whose path is the longest proper prefix of this one.
    candidates = [(len(p), k) for k, p in paths.items()
                  if k != kind and path.lower().startswith(p.lower() + "/")]
    return max(candidates)[1] if candidates else None


def _parent_ref(parent: str | None) -> dict | None:
    if parent is None:
        return None
    stem = parent[0].lower() + parent[1:]
    return {"refField": f"{stem}Ref", "idField": f"{stem}Id"}


def _arm_type(path: str) -> str:
    tail = path.split("/providers/", 1)[1]
    return "/".join(s for s in tail.split("/") if not s.startswith("{"))


def _extra_path_parameters(path: str, parent_path: str | None, name_param: str,
                           get_op: dict) -> dict[str, dict]:
    inherited = set(_path_parameters(parent_path)) if parent_path else set(SCOPE_PARAMETERS)
    extra = [p for p in _path_parameters(path) if p not in inherited and p != name_param]
    return {p: {"specField": p, **get_op["pathParameters"][p]} for p in extra}


def _actions(path: str, ops: dict, paths: dict[str, str]) -> list[str]:
    # Operations below this resource's path that belong to no kind are its actions.
    kind_ops = {op["operationId"] for facts in KINDS.values()
                for op in _crud(ops, facts).values() if op}
    prefix = path.lower() + "/"
    deeper = [p.lower() + "/" for p in paths.values() if p.lower().startswith(prefix)]
    return sorted(
        op_id for op_id, op in ops.items()
        if op_id not in kind_ops and op["path"].lower().startswith(prefix)
        and not any(op["path"].lower().startswith(d) for d in deeper)
    )


def _create_only(put: dict, patch: dict | None, path_map: dict[str, str],
                 prefix: str = "") -> list[str]:
    """Writable PUT fields that the PATCH model has no place for."""
    if patch is None:
        return []
    found = []
    for name, sub in put.get("properties", {}).items():
        path = f"{prefix}{name}"
        if sub.get("readOnly") or not _writable(sub):
            continue
        target = schemas.lookup(patch, _mapped(path, path_map))
        mapped_below = any(key.startswith(path + ".") for key in path_map)
        if target is None and not mapped_below:
            found.append(path)
        elif "properties" in sub:
            found += _create_only(sub, patch, path_map, path + ".")
    return found


def _mapped(path: str, path_map: dict[str, str]) -> str:
    """Map the PUT field at `path` to its place in the PATCH model."""
    for put_path, patch_path in path_map.items():
        if path == put_path or path.startswith(put_path + "."):
            return patch_path + path[len(put_path):]
    return path


def _writable(node: dict) -> bool:
    """False for objects whose every field is read-only."""
    if node.get("readOnly"):
        return False
    if "properties" not in node:
        return True
    return any(_writable(sub) for sub in node["properties"].values())


def _immutable(parent: str | None, create_only: list[str], extra: dict,
               references: tuple[dict, ...]) -> list[str]:
    """List every spec path that the CRD freezes after create, placement included."""
    frozen = {"azureName", *create_only, *(e["specField"] for e in extra.values())}
    if parent is None:
        frozen |= {"resourceGroup", "subscriptionId"}
    else:
        ref = _parent_ref(parent)
        frozen |= {ref["refField"], ref["idField"]}
    # A reference given by name is as frozen as the id it stands for.
    for r in references:
        if r["path"] in create_only:
            frozen.add(sibling(r["path"], r["refField"]))
    return sorted(frozen)


def sibling(path: str, name: str) -> str:
    """Return the dotted path of `name` next to the field at `path`."""
    parent, _, _ = path.rpartition(".")
    return f"{parent}.{name}" if parent else name


def _spec_fields(put: dict) -> list[str]:
    names = [n for n, sub in put.get("properties", {}).items()
             if not sub.get("readOnly") and _writable(sub)]
    ordered = [n for n in _SPEC_FIELD_ORDER if n in names]
    return ordered + sorted(n for n in names if n not in ordered)


def _array_keys(doc: dict, definition: str) -> dict[str, list[str]]:
    """x-ms-identifiers of arrays in the PUT body: the keys that pair up items."""
    found: dict[str, list[str]] = {}
    _walk_identifiers(doc, doc["definitions"][definition], "", (definition,), found)
    return found


def _walk_identifiers(doc: dict, schema: dict, prefix: str, stack: tuple[str, ...],
                      found: dict[str, list[str]]) -> None:
    if "$ref" in schema:
        name = swagger.definition_name(schema["$ref"])
        if name in doc["definitions"] and name not in stack:
            _walk_identifiers(doc, doc["definitions"][name], prefix, (*stack, name), found)
        return
    for part in schema.get("allOf", []):
        _walk_identifiers(doc, part, prefix, stack, found)
    for name, sub in schema.get("properties", {}).items():
        if sub.get("readOnly"):
            continue
        path = f"{prefix}{name}"
        if "x-ms-identifiers" in sub:
            found[path] = list(sub["x-ms-identifiers"])
        target = sub.get("items", sub)
        _walk_identifiers(doc, target, path + ".", stack, found)
