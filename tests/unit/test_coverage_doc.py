"""docs/coverage.md names every ARM operation, and only tests that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "coverage.md"
API = ROOT / "operator" / "acr_operator" / "generated" / "api.json"
# A table row starts with the operation id in backticks.
ROW = re.compile(r"^\|\s*`(\w+)`\s*\|", re.MULTILINE)
# A test reference such as tests/e2e/test_kinds.py::test_kind_lifecycle[Token], where the
# bracket is a parameter id that the test file spells as a string.
TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?")


def _operation_ids() -> set[str]:
    return {operation["operationId"] for operation in json.loads(API.read_text())["operations"]}


def _documented() -> list[str]:
    return ROW.findall(DOC.read_text())


def test_coverage_doc_lists_every_operation():
    missing = sorted(_operation_ids() - set(_documented()))
    assert missing == []


def test_coverage_doc_lists_only_known_operations():
    unknown = sorted(set(_documented()) - _operation_ids())
    assert unknown == []


def test_coverage_doc_lists_each_operation_once():
    documented = _documented()
    repeated = sorted({name for name in documented if documented.count(name) > 1})
    assert repeated == []


def test_coverage_doc_names_existing_tests():
    references = TEST.findall(DOC.read_text())
    assert references, "docs/coverage.md names no tests"
    absent = []
    for path, name, parameter in references:
        source = ROOT / path
        text = source.read_text() if source.is_file() else ""
        if not re.search(rf"^(async )?def {name}\(", text, re.MULTILINE):
            absent.append(f"{path}::{name}")
        elif parameter and f'"{parameter}"' not in text:
            absent.append(f"{path}::{name}[{parameter}]")
    assert absent == []
