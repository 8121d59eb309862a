"""Flattening the document's paths into one record per operation.

The emulator routes requests and the reconciler picks operations from
these records, so each one carries everything needed without going back
to the document: parameters with their constraints, body and response
definition names, and the long-running and paging behaviour.
"""

from __future__ import annotations

from acr_operator.codegen import swagger

# Parameter keywords that constrain a value; the rest is prose or client hints.
_PARAMETER_FACTS = ("type", "format", "enum", "pattern", "minLength", "maxLength", "minimum",
                    "maximum", "default")


def build(doc: dict) -> list[dict]:
    records = [_record(doc, path, method, op, shared)
               for path, method, op, shared in swagger.operations(doc)]
    return sorted(records, key=lambda r: r["operationId"])


def _record(doc: dict, path: str, method: str, op: dict, shared: list[dict]) -> dict:
    params = [swagger.resolve_parameter(doc, p) for p in [*shared, *op.get("parameters", [])]]
    body = next((p for p in params if p["in"] == "body"), None)
    options = op.get("x-ms-long-running-operation-options", {})
    return {
        "operationId": op["operationId"],
        "method": method.upper(),
        "path": path,
        "pathParameters": _parameters(params, "path"),
        "queryParameters": _parameters(params, "query"),
        "body": swagger.definition_name(body["schema"]["$ref"]) if body else None,
        "bodyRequired": bool(body and body.get("required")),
        "responses": _responses(op["responses"]),
        "longRunning": bool(op.get("x-ms-long-running-operation")),
        "finalStateVia": options.get("final-state-via"),
        "pageable": _pageable(op.get("x-ms-pageable")),
    }


def _parameters(params: list[dict], location: str) -> dict[str, dict]:
    found = {}
    for param in params:
        if param["in"] != location:
            continue
        facts = {key: param[key] for key in _PARAMETER_FACTS if key in param}
        # Path parameters are always required, so only query parameters carry the flag.
        if location != "path":
            facts["required"] = bool(param.get("required"))
        found[param["name"]] = facts
    return found


def _responses(responses: dict) -> dict[str, str | None]:
    return {
        code: swagger.definition_name(resp["schema"]["$ref"]) if "schema" in resp else None
        for code, resp in responses.items()
    }


def _pageable(pageable: dict | None) -> dict | None:
    if pageable is None:
        return None
    # An explicit null nextLinkName means the list always fits one page.
    return {"itemName": pageable.get("itemName", "value"),
            "nextLinkName": pageable.get("nextLinkName")}
