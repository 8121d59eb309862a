"""Checks of the manifests in examples/.

The e2e tests send each manifest to a real API server as a server-side dry
run, so the CRDs' schemas and CEL rules validate them. The other tests only
read files: one example per kind, and every reference names an object of the
set.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CRDS = ROOT / "crds"
API_VERSION = "acr-operator.dev/v1alpha1"
KINDS = {
    kind: descriptor
    for kind, descriptor in json.loads(
        (ROOT / "operator" / "acr_operator" / "generated" / "kinds.json").read_text()
    ).items()
    if not kind.startswith("_")
}
# Examples leave the namespace out, so `kubectl apply -n NS -f examples/` works anywhere.
PINNED_NAMESPACES: dict[str, str] = {}
MAX_HEADER_LINES = 3

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def _load(path: Path) -> dict:
    """Return the one manifest in an example file."""
    documents = [document for document in yaml.safe_load_all(path.read_text()) if document]
    assert len(documents) == 1, f"{path.name} should hold one manifest, not {len(documents)}"
    return documents[0]


def _operator_examples() -> dict[str, dict]:
    """Map file name to manifest, for the examples of this operator's kinds."""
    manifests = {path.name: _load(path) for path in EXAMPLE_FILES}
    return {name: body for name, body in manifests.items() if body["apiVersion"] == API_VERSION}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _reference_fields(kind: str) -> dict[str, tuple[str, ...]]:
    """Map each `...Ref` field of a kind (dotted path under spec) to the kinds it may name."""
    descriptor = KINDS[kind]
    fields: dict[str, tuple[str, ...]] = {}
    if descriptor["parentRef"]:
        fields[descriptor["parentRef"]["refField"]] = (descriptor["parent"],)
    for reference in descriptor["references"]:
        # A reference replaces the id field beside it, so it sits under the same parent.
        parent_path = reference["path"].rpartition(".")[0]
        fields[_join(parent_path, reference["refField"])] = tuple(reference["kinds"])
    for secret in descriptor["secretInputs"]:
        fields[secret["refField"]] = ("Secret",)
    return fields


def _find_references(value, path: str = "") -> Iterator[tuple[str, dict]]:
    """Yield (dotted path, reference) for every `...Ref` or `...Refs` field below value."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = _join(path, key)
            if key.endswith("Ref"):
                yield child, item
            elif key.endswith("Refs"):
                for element in item:
                    yield child, element
            else:
                yield from _find_references(item, child)
    elif isinstance(value, list):
        for item in value:
            yield from _find_references(item, path)


def _reference_cases() -> list:
    cases = []
    for file_name, manifest in _operator_examples().items():
        for path, reference in _find_references(manifest["spec"]):
            case_id = f"{file_name}:{path}:{reference.get('name')}"
            cases.append(pytest.param(file_name, manifest["kind"], path, reference, id=case_id))
    return cases


def _defined_objects() -> dict[tuple[str, str], dict]:
    """Map (kind, metadata.name) to the manifest that defines it, over all examples."""
    objects = {}
    for path in EXAMPLE_FILES:
        manifest = _load(path)
        objects[(manifest["kind"], manifest["metadata"]["name"])] = manifest
    return objects


# Files only -------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_starts_with_comment(path: Path):
    lines = path.read_text().splitlines()
    header = 0
    while header < len(lines) and lines[header].startswith("#"):
        header += 1
    assert header >= 1, f"{path.name} should start with a comment saying what it shows"
    assert header <= MAX_HEADER_LINES, f"{path.name} starts with {header} comment lines"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_namespace(path: Path):
    namespace = _load(path)["metadata"].get("namespace")
    assert namespace == PINNED_NAMESPACES.get(path.name), (
        f"{path.name} sets metadata.namespace {namespace!r}; examples leave it out so that "
        "`kubectl apply -n NAMESPACE` can place them"
    )


def test_every_kind_has_one_example():
    files_by_kind: dict[str, list[str]] = {}
    for file_name, manifest in _operator_examples().items():
        files_by_kind.setdefault(manifest["kind"], []).append(file_name)

    assert sorted(set(files_by_kind) - set(KINDS)) == []
    assert sorted(set(KINDS) - set(files_by_kind)) == []
    duplicated = {kind: files for kind, files in files_by_kind.items() if len(files) > 1}
    assert duplicated == {}


@pytest.mark.parametrize(
    "file_name,manifest",
    [item for item in _operator_examples().items() if KINDS[item[1]["kind"]]["parentRef"]],
)
def test_child_names_parent_by_ref(file_name: str, manifest: dict):
    parent_ref = KINDS[manifest["kind"]]["parentRef"]
    assert parent_ref["refField"] in manifest["spec"], (
        f"{file_name} should name its parent with spec.{parent_ref['refField']}, so the set "
        "stays self-contained"
    )


@pytest.mark.parametrize("file_name,kind,path,reference", _reference_cases())
def test_reference_resolves(file_name: str, kind: str, path: str, reference: dict):
    allowed = _reference_fields(kind)
    assert path in allowed, f"{file_name}: spec.{path} is not a reference field of {kind}"

    target_kind = reference.get("kind")
    if target_kind is None:
        assert len(allowed[path]) == 1, f"{file_name}: spec.{path} needs a kind"
        target_kind = allowed[path][0]
    assert target_kind in allowed[path]

    target = _defined_objects().get((target_kind, reference["name"]))
    assert target is not None, f"no example defines {target_kind} {reference['name']!r}"
    if target_kind == "Secret" and "key" in reference:
        keys = {*target.get("data", {}), *target.get("stringData", {})}
        assert reference["key"] in keys, (
            f"Secret {reference['name']!r} has no key {reference['key']!r}"
        )


def test_examples_have_references():
    # Guards the parametrized test above against passing on an empty list.
    assert len(_reference_cases()) >= len(KINDS) - 1


# Against the API server -------------------------------------------------------


@pytest.fixture(scope="module")
def crds(kube):
    kube.run("kubectl", "apply", "--server-side", "-f", str(CRDS))
    kube.run("kubectl", "wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))


@pytest.fixture
def namespace(kube, crds) -> Iterator[str]:
    name = f"examples-{uuid.uuid4().hex[:8]}"
    kube.run("kubectl", "create", "namespace", name)
    yield name
    kube.run("kubectl", "delete", "namespace", name, "--wait=false")


def _dry_run(kube, namespace: str, path: Path) -> dict:
    """Dry-run `kubectl apply` of one example and return the object the server would store."""
    manifest = _load(path)
    arguments = ["apply", "--dry-run=server", "--validate=strict", "-n", namespace, "-o", "json"]
    if "namespace" not in manifest["metadata"]:
        return json.loads(kube.run("kubectl", *arguments, "-f", str(path)).stdout)

    # kubectl rejects a manifest whose namespace differs from -n, so the pinned
    # namespace is dropped to check the rest of the manifest in this namespace.
    del manifest["metadata"]["namespace"]
    result = kube.run("kubectl", *arguments, "-f", "-", input=yaml.safe_dump(manifest))
    return json.loads(result.stdout)


@pytest.mark.e2e
@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.name)
def test_example_dry_run(kube, namespace: str, path: Path):
    stored = _dry_run(kube, namespace, path)

    manifest = _load(path)
    assert stored["kind"] == manifest["kind"]
    assert stored["metadata"]["namespace"] == namespace
    if manifest["apiVersion"] == API_VERSION:
        # Equal specs show that the schema pruned no field.
        assert stored["spec"] == manifest["spec"]


@pytest.mark.e2e
def test_folder_dry_run(kube, namespace: str):
    # The one command of docs/examples.md.
    kube.run(
        "kubectl", "apply", "--dry-run=server", "--validate=strict", "-n", namespace,
        "-f", str(EXAMPLES),
    )
