"""Request checks that ARM and the resource provider make before serving a request.

The query must carry this api-version, path parameters must fit their
patterns and lengths, and a body must be JSON that fits the operation's
body definition. Read-only fields that the client sent are dropped first,
as ARM ignores them.
"""

from __future__ import annotations

import copy
import json
import re
import uuid

from acr_operator import ARM_API_VERSION, apimodel
from acr_operator.emulator.errors import ArmError, bad_request

_API_VERSION_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")

# Schema keywords that constrain a value, as opposed to its JSON type.
_VALUE_KEYWORDS = {"enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
                   "minItems", "maxItems", "uniqueItems", "required", "format"}


def check_api_version(query: dict[str, str], resource_type: str) -> None:
    version = query.get("api-version")
    if version is None:
        raise bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.")
    if version == ARM_API_VERSION:
        return
    if not _API_VERSION_SHAPE.match(version):
        raise bad_request(
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{ARM_API_VERSION}'.")
    raise bad_request(
        "NoRegisteredProviderFound",
        f"No registered resource provider found for API version '{version}' and type "
        f"'{resource_type}'. The supported api-versions are '{ARM_API_VERSION}'.")


def check_path_parameters(operation: dict, params: dict[str, str]) -> None:
    for name, value in params.items():
        facts = operation["pathParameters"].get(name, {})
        problem = _parameter_problem(facts, value)
        if problem is None:
            continue
        if name == "subscriptionId":
            raise bad_request(
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{value}' is malformed or invalid.")
        if name == "resourceGroupName":
            # NOTE: code not confirmed from a recording.
            raise bad_request(
                "InvalidResourceGroupName",
                f"Resource group name '{value}' is invalid: {problem}.", target=name)
        # NOTE: code not confirmed from a recording.
        raise bad_request(
            "InvalidResourceName",
            f"The resource name '{value}' given as {name} is invalid: {problem}.", target=name)


def _parameter_problem(facts: dict, value: str) -> str | None:
    if facts.get("format") == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return "it is not a GUID"
    if "minLength" in facts and len(value) < facts["minLength"]:
        return f"it must have at least {facts['minLength']} characters"
    if "maxLength" in facts and len(value) > facts["maxLength"]:
        return f"it must have at most {facts['maxLength']} characters"
    if "pattern" in facts and not re.search(facts["pattern"], value):
        return f"it must match the pattern {facts['pattern']}"
    return None


def parse_body(raw: bytes) -> object:
    """Parse the JSON request body; return None when the request has none."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {exc}.") from None


def validate_body(operation: dict, body: object, lenient: set[str] = frozenset()) -> object:
    """Check the body against the body definition and return it without read-only fields.

    Errors about the top-level fields named in `lenient` are left to the handler.
    """
    definition = operation.get("body")
    if definition is None:
        return body
    if body is None:
        if operation.get("bodyRequired"):
            raise bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: the request "
                "has no body.")
        return None
    cleaned = strip_read_only({"$ref": f"#/definitions/{definition}"}, copy.deepcopy(body))
    errors = sorted((e for e in apimodel.validator(definition).iter_errors(cleaned)
                     if not _about(e, lenient)),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.validator))
    if errors:
        raise _schema_error(errors)
    return cleaned


def _about(error, fields: set[str]) -> bool:
    path = list(error.absolute_path)
    if path:
        return path[0] in fields
    return error.validator == "required" and any(f"'{f}'" in error.message for f in fields)


def strip_read_only(schema: dict, value: object) -> object:
    """Drop, in place, the fields that the schema marks read-only; returns the value."""
    schema = _resolve(schema)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                strip_read_only(items, item)
        return value
    if not isinstance(value, dict):
        return value
    properties = _properties(schema)
    extra = schema.get("additionalProperties")
    for name in list(value):
        sub = properties.get(name)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is None:
            continue
        if sub.get("readOnly") or _resolve(sub).get("readOnly"):
            del value[name]
        else:
            strip_read_only(sub, value[name])
    return value


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = apimodel.definitions()[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _properties(schema: dict) -> dict[str, dict]:
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        for name, sub in _properties(_resolve(part)).items():
            found.setdefault(name, sub)
    return found


def _schema_error(errors: list) -> ArmError:
    details = [_detail(e) for e in errors]
    first = details[0]
    if len(details) > 1:
        return ArmError(400, first["code"], first["message"], target=first["target"],
                        details=details)
    return ArmError(400, first["code"], first["message"], target=first["target"])


def _detail(error) -> dict:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        field = f"{path}.{missing}" if path else missing
        if field == "location":
            return {"code": "LocationRequired",
                    "message": "The location property is required for this definition.",
                    "target": "location"}
        return {"code": "InvalidParameter",
                "message": f"The required property '{field}' is missing.", "target": field}
    shown = json.dumps(error.instance)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    if error.validator in _VALUE_KEYWORDS:
        return {"code": "InvalidParameter",
                "message": f"The value {shown} of property '{path}' is invalid: {error.message}.",
                "target": path}
    return {"code": "InvalidRequestContent",
            "message": f"The request content was invalid and could not be deserialized: the "
                       f"value {shown} of property '{path}' has the wrong type: {error.message}.",
            "target": path}
