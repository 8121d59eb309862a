"""Turning Swagger schema objects into plain draft-4 JSON Schema.

The emulator validates request bodies with these schemas and the CRD
builder starts from them, so they keep every fact that constrains a value
and drop prose (descriptions, titles, examples) and the `x-ms-*` client
generator hints, which no validator understands.
"""

from __future__ import annotations

from acr_operator.codegen import commontypes, swagger

# Keywords whose value is a plain fact and is copied as it is.
_FACT_KEYWORDS = (
    "type",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "default",
    "readOnly",
)


def clean(schema: dict) -> dict:
    """Copy `schema` without prose and extensions, with every ref made local."""
    out: dict = {}
    for key in _FACT_KEYWORDS:
        if key in schema:
            out[key] = schema[key]
    if "$ref" in schema:
        out["$ref"] = swagger.local_ref(schema["$ref"])
    if "properties" in schema:
        out["properties"] = {name: clean(sub) for name, sub in schema["properties"].items()}
    if "items" in schema:
        out["items"] = clean(schema["items"])
    if "allOf" in schema:
        out["allOf"] = [clean(sub) for sub in schema["allOf"]]
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = clean(extra)
    elif isinstance(extra, bool):
        out["additionalProperties"] = extra
    return out


def references(schema: dict) -> set[str]:
    """Names of the definitions a cleaned schema refers to directly."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if "$ref" in node:
            found.add(swagger.definition_name(node["$ref"]))
        stack.extend(node.get("properties", {}).values())
        stack.extend(node.get("allOf", []))
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])
    return found


def definitions(doc: dict) -> dict[str, dict]:
    """Collect the document's definitions plus the common types they reach."""
    result = {name: clean(schema) for name, schema in doc["definitions"].items()}
    pending = [ref for schema in result.values() for ref in references(schema)]
    pending += _operation_refs(doc)
    while pending:
        name = pending.pop()
        if name in result:
            continue
        result[name] = commontypes.DEFINITIONS[name]
        pending.extend(references(result[name]))
    return dict(sorted(result.items()))


def _operation_refs(doc: dict) -> list[str]:
    refs = []
    for _path, _method, op, _shared in swagger.operations(doc):
        for param in op.get("parameters", []):
            if "schema" in param:
                refs.append(swagger.definition_name(param["schema"]["$ref"]))
        for response in op["responses"].values():
            if "schema" in response:
                refs.append(swagger.definition_name(response["schema"]["$ref"]))
    return refs


def resolve(defs: dict[str, dict], schema: dict, stack: tuple[str, ...] = ()) -> dict:
    """Inline every `$ref` of `schema` and merge every `allOf`.

    A reference back into a definition already being expanded becomes
    `{"$recursive": Name}`, so callers choose how to cut the cycle.
    `readOnly` next to a `$ref` is carried onto the inlined copy.
    """
    if "$ref" in schema:
        name = swagger.definition_name(schema["$ref"])
        if name in stack:
            node = {"$recursive": name}
        else:
            node = resolve(defs, defs[name], (*stack, name))
        if schema.get("readOnly"):
            node = {**node, "readOnly": True}
        return node

    node = {k: v for k, v in schema.items() if k not in _STRUCTURE_KEYWORDS}
    properties: dict[str, dict] = {}
    required: list[str] = []
    # Inherited members first, so that the schema's own ones win on a clash.
    for part in schema.get("allOf", []):
        merged = resolve(defs, part, stack)
        properties.update(merged.get("properties", {}))
        required += merged.get("required", [])
        if "type" in merged:
            node.setdefault("type", merged["type"])
    for name, sub in schema.get("properties", {}).items():
        properties[name] = resolve(defs, sub, stack)
    required += schema.get("required", [])
    if properties:
        node["properties"] = properties
    if required:
        node["required"] = sorted(set(required))
    if "items" in schema:
        node["items"] = resolve(defs, schema["items"], stack)
    if isinstance(schema.get("additionalProperties"), dict):
        node["additionalProperties"] = resolve(defs, schema["additionalProperties"], stack)
    return node


_STRUCTURE_KEYWORDS = ("$ref", "allOf", "properties", "required", "items", "additionalProperties")


def lookup(node: dict, dotted: str) -> dict | None:
    """Find the resolved sub-schema at a dotted property path, or return None."""
    for part in dotted.split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node
