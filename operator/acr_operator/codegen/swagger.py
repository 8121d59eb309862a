"""Loading the OpenAPI (Swagger 2) document and resolving its references.

Everything downstream works on definition names (`#/definitions/Name`)
only. This module turns the document's local and cross-file references
into that form, and it is the only module that reads the document's files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from acr_operator.codegen import commontypes

DOCUMENT = "containerregistry.json"
HTTP_METHODS = ("get", "put", "patch", "post", "delete", "head", "options")


@dataclass(frozen=True)
class Source:
    """The document and the facts a generated header names about it."""

    doc: dict
    path: Path
    display_path: str
    upstream_commit: str | None
    sha256: str


def load(spec_dir: Path, display_dir: str) -> Source:
    path = spec_dir / DOCUMENT
    raw = path.read_bytes()
    return Source(
        doc=json.loads(raw),
        path=path,
        display_path=f"{display_dir.rstrip('/')}/{DOCUMENT}",
        upstream_commit=_upstream_commit(spec_dir / "SOURCE.md", DOCUMENT),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _upstream_commit(source_md: Path, file_name: str) -> str | None:
    # SOURCE.md is a table: | file | commit | characters | note |
    if not source_md.is_file():
        return None
    for line in source_md.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] == file_name and re.fullmatch(r"[0-9a-f]{40}", cells[1]):
            return cells[1]
    return None


def definition_name(ref: str) -> str:
    """Return the definition name that a local or common schema `$ref` points at."""
    file_part, _, pointer = ref.partition("#")
    match = re.fullmatch(r"/definitions/([^/]+)", pointer)
    if not match:
        raise ValueError(f"unsupported schema reference {ref!r}: expected #/definitions/Name")
    name = match.group(1)
    if file_part and name not in commontypes.DEFINITIONS:
        raise ValueError(f"reference {ref!r} names a common type missing from commontypes.py; "
                         "add its facts there")
    return name


def local_ref(ref: str) -> str:
    return f"#/definitions/{definition_name(ref)}"


def resolve_parameter(doc: dict, param: dict) -> dict:
    """Return the parameter object, following a local or common `$ref`."""
    ref = param.get("$ref")
    if ref is None:
        return param
    file_part, _, pointer = ref.partition("#")
    match = re.fullmatch(r"/parameters/([^/]+)", pointer)
    if not match:
        raise ValueError(f"unsupported parameter reference {ref!r}: expected #/parameters/Name")
    name = match.group(1)
    table = commontypes.PARAMETERS if file_part else doc.get("parameters", {})
    if name not in table:
        raise ValueError(f"parameter reference {ref!r} not found; a common parameter needs "
                         "its facts in commontypes.py")
    return table[name]


def operations(doc: dict):
    """Yield (path, method, operation, path-level parameters) in document order."""
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method], shared
