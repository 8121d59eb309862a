"""The generated API model: operations, schemas and kind descriptors.

Both the operator and the emulator read the OpenAPI facts through this
module, never from the document itself, so they agree by construction.
It sits in the lowest layer and imports nothing else from the package but
its constants. Every loader is cached, because the generated files do not
change while a process runs.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from urllib.parse import unquote

import jsonschema
import referencing
import referencing.jsonschema

from acr_operator import ARM_API_VERSION

# The base URI the api.json document is registered under, so that its
# `#/definitions/Name` references resolve against the document itself.
API_URI = "urn:acr-operator:api.json"


@functools.cache
def api() -> dict:
    """Return the whole api.json document."""
    model = _load("api.json")
    if model.get("apiVersion") != ARM_API_VERSION:
        raise RuntimeError(
            f"generated api.json is for api-version {model.get('apiVersion')} but the package "
            f"expects {ARM_API_VERSION}; run `python -m acr_operator.codegen`"
        )
    return model


@functools.cache
def operations() -> dict[str, dict]:
    """Return the operation records keyed by operationId."""
    return {op["operationId"]: op for op in api()["operations"]}


def operation(operation_id: str) -> dict:
    try:
        return operations()[operation_id]
    except KeyError:
        raise KeyError(f"api.json has no operation {operation_id!r}") from None


def definitions() -> dict[str, dict]:
    return api()["definitions"]


@functools.cache
def kinds() -> dict[str, dict]:
    """Return the kind descriptors of kinds.json keyed by kind, without the header."""
    return {kind: desc for kind, desc in _load("kinds.json").items() if not kind.startswith("_")}


def match(method: str, path: str) -> tuple[dict, dict[str, str]] | None:
    """Find the operation that serves `method path`, and its path parameter values.

    `path` has no query string. Literal segments compare case-insensitively,
    as ARM does. Values come
    back percent-decoded. When two templates fit, the one with more literal
    segments wins. Returns None when no operation fits.
    """
    segments = path.rstrip("/").split("/")
    best = None
    for template in _templates().get(method.upper(), []):
        values = template.bind(segments)
        if values is not None and (best is None or template.literals > best[0].literals):
            best = (template, values)
    if best is None:
        return None
    return operations()[best[0].operation_id], best[1]


@functools.cache
def validator(definition: str) -> jsonschema.Draft4Validator:
    """Build a draft-4 validator for one definition that resolves refs inside api.json."""
    if definition not in definitions():
        raise KeyError(f"api.json has no definition {definition!r}")
    schema = {"$ref": f"{API_URI}#/definitions/{definition}"}
    return jsonschema.Draft4Validator(schema, registry=_registry())


@functools.cache
def _registry() -> referencing.Registry:
    resource = referencing.Resource(contents=api(), specification=referencing.jsonschema.DRAFT4)
    return referencing.Registry().with_resource(API_URI, resource)


class _Template:
    """One operation path split into literal and `{parameter}` segments."""

    def __init__(self, operation_id: str, path: str) -> None:
        self.operation_id = operation_id
        self.segments = [
            (True, s[1:-1]) if re.fullmatch(r"\{[^{}]+\}", s) else (False, s.lower())
            for s in path.rstrip("/").split("/")
        ]
        self.literals = sum(1 for is_param, _ in self.segments if not is_param)

    def bind(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        values = {}
        for (is_param, text), actual in zip(self.segments, segments):
            if is_param:
                if not actual:
                    return None
                values[text] = unquote(actual)
            elif actual.lower() != text:
                return None
        return values


@functools.cache
def _templates() -> dict[str, list[_Template]]:
    by_method: dict[str, list[_Template]] = {}
    for op in api()["operations"]:
        by_method.setdefault(op["method"], []).append(_Template(op["operationId"], op["path"]))
    return by_method


def _load(name: str) -> dict:
    text = resources.files("acr_operator").joinpath("generated", name).read_text(encoding="utf-8")
    return json.loads(text)
