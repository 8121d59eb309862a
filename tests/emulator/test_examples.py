"""Every request/response example of the api-version, replayed against the emulator.

For each example and each status code it lists, the test creates what the
example assumes (parents, referenced resources, the target itself unless the
request creates it or expects 204), picks the LRO mode that yields that
code, sends the example's request and checks the status, the polling
header, and the answer body against the operation's response definition.
Examples of the neighbouring 2025-05-01-preview folder fill gaps of this
one; their api-version is rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acr_operator import apimodel
from acr_operator.emulator import ids, routing
from tests.emulator import seed

SPEC_ROOT = Path(__file__).resolve().parents[3] / "shared" / "azure-spec" / "containerregistry"
DOCUMENT = SPEC_ROOT / "2025-06-01-preview" / "containerregistry.json"
EXAMPLE_FOLDERS = [SPEC_ROOT / "2025-06-01-preview" / "examples",
                   SPEC_ROOT / "2025-05-01-preview-examples"]

# Where an example disagrees with the document, the document wins. Each entry
# names the example (and code), what differs, and what the test does instead.
EXCEPTIONS = {
    "RegistryCheckNameAvailable.json": (
        "The example has no operationId and api-version 2025-05-01-preview; the operation "
        "comes from the document's x-ms-examples reference and the api-version is rewritten."),
    "ArchiveCreate.json-201": (
        "The example's Azure-AsyncOperation URL carries api-version 2023-01-01-preview and its "
        "201 body an id without /packages/rpm; only the header's presence is checked and the "
        "body is validated against the Archive definition."),
    "PipelineRunCreate_Import.json-200": (
        "The example's response.source.type is AzureStorageBlob, which the document's "
        "ImportPipelineSourceProperties enum does not allow; the emulator reports the "
        "pipeline's AzureStorageBlobContainer and the answer is validated as is."),
    "RegistryCreateZoneRedundant.json": (
        "Not a contradiction, but a rule change: the example creates a zone-redundant Standard "
        "registry, so the emulator has no Premium-only rule for zone redundancy."),
    "RegistryDelete.json-202": (
        "The document declares no body for 202; the emulator sends the registry in state "
        "Deleting, as the recorded Azure answers do, so the body is validated as a Registry."),
}

# Answers whose body a test checks beyond the schema, by example.
EXPECTED_FIELDS = {
    "RegistryCheckNameAvailable.json": {"nameAvailable": True},
    "RegistryCheckNameNotAvailable.json": {"nameAvailable": False, "reason": "AlreadyExists"},
    # The thumbprint is computed from the example's certificate, so it must match.
    "TokenCreate.json": {
        "properties.credentials.certificates.0.thumbprint": "feeb79a888bf1415f8e17c4965a2a5bb5c8a2ff7"},
}


def _field(body: object, dotted: str) -> object:
    for part in dotted.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def _operations_by_example() -> dict[str, str]:
    document = json.loads(DOCUMENT.read_text())
    found = {}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for reference in operation.get("x-ms-examples", {}).values():
                found[reference["$ref"].rsplit("/", 1)[1]] = operation["operationId"]
    return found


def _cases() -> list:
    if not DOCUMENT.exists():
        return []
    operations = _operations_by_example()
    cases = []
    for folder in EXAMPLE_FOLDERS:
        for path in sorted(folder.glob("*.json")):
            example = json.loads(path.read_text())
            operation_id = example.get("operationId") or operations[path.name]
            for code in example["responses"]:
                if code != "default":
                    cases.append(pytest.param(path, operation_id, code,
                                              id=f"{path.name}-{code}"))
    return cases


def _mode(operation: dict, code: str) -> str:
    if code == "201":
        return "async"
    if code == "200" and operation["longRunning"]:
        return "sync"
    return "recorded"


def _references(value: object) -> list[str]:
    """ARM ids of this provider anywhere inside a request body."""
    if isinstance(value, dict):
        return [r for item in value.values() for r in _references(item)]
    if isinstance(value, list):
        return [r for item in value for r in _references(item)]
    if isinstance(value, str) and ids.parse(value) is not None:
        return [value]
    return []


async def _prepare(arm, operation: dict, route: routing.Route, example: dict, body: object,
                   code: str, name: str) -> None:
    kind = route.kind
    target = route.target
    for reference in _references(body):
        if ids.key(reference) != ids.key(target or ""):
            await seed.ensure(arm, reference)
    if name == "RegistryCheckNameNotAvailable.json":
        request = example["parameters"]["registryNameCheckRequest"]
        await seed.ensure(arm, f"/subscriptions/{route.params['subscriptionId']}/resourceGroups/"
                               f"{request['resourceGroupName']}/providers/Microsoft.ContainerRegistry"
                               f"/registries/other{request['name']}")
        await arm.configure(lro="sync")
        answer = await arm.put(
            f"/subscriptions/{route.params['subscriptionId']}/resourceGroups/"
            f"{request['resourceGroupName']}/providers/Microsoft.ContainerRegistry/registries/"
            f"{request['name']}",
            {"location": "westus", "sku": {"name": "Standard"}, "properties": {
                "autoGeneratedDomainNameLabelScope": request["autoGeneratedDomainNameLabelScope"]}})
        assert answer.status == 200, answer.body
        return
    if target is None:
        return
    rid = ids.parse(target) or ids.parse(target + "/x")
    if operation["operationId"] == "Registries_List":
        await seed.ensure(arm, f"/subscriptions/{route.params['subscriptionId']}/resourceGroups/"
                               f"seedGroup/providers/Microsoft.ContainerRegistry/registries/myRegistry")
        return
    if kind == "list":
        if rid is not None:
            items = (example["responses"][code].get("body") or {}).get("value") or []
            child = items[0]["name"] if items and "name" in items[0] else "sampleItem"
            if "privateLinkResources" in target:
                await seed.ensure(arm, str(rid.registry))
            elif ids.parse(f"{target}/{child}") is not None:
                await seed.ensure(arm, f"{target}/{child}")
        return
    if rid is None:
        return
    if operation["operationId"] == "Registries_GetPrivateLinkResource":
        await seed.ensure(arm, str(rid.registry))
    elif kind == "put" or (kind == "delete" and code == "204"):
        await seed.ensure_parent(arm, rid)
    else:
        await seed.ensure(arm, target)
    if operation["operationId"] == "Webhooks_ListEvents":
        assert (await arm.post(target + "/ping")).status == 200


@pytest.mark.parametrize(("path", "operation_id", "code"), _cases())
async def test_example_replays(arm, path: Path, operation_id: str, code: str) -> None:
    example = json.loads(path.read_text())
    operation = apimodel.operation(operation_id)
    params = example["parameters"]
    url = routing.fill(operation["path"], {k: params[k] for k in operation["pathParameters"]})
    route = routing.resolve(operation["method"], url, {})
    assert route is not None and route.operation_id == operation_id
    body = None
    if operation["body"]:
        body = next(v for k, v in params.items()
                    if k not in operation["pathParameters"] and isinstance(v, dict))
    await _prepare(arm, operation, route, example, body, code, path.name)
    await arm.configure(lro=_mode(operation, code))

    answer = await arm.request(operation["method"], url, body)

    assert answer.status == int(code), answer.body
    if code == "201" or (code == "200" and answer.status == 201):
        assert answer.header("Azure-AsyncOperation"), answer.headers
    if code == "202":
        assert answer.header("Location"), answer.headers
    definition = operation["responses"].get(code)
    if f"{path.name}-{code}" == "RegistryDelete.json-202":
        definition = "Registry"
    if definition is None:
        assert answer.body is None
    else:
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in apimodel.validator(definition).iter_errors(answer.body)]
        assert not errors, errors
    for field, value in EXPECTED_FIELDS.get(path.name, {}).items():
        assert _field(answer.body, field) == value, answer.body


# Operations without an example in either folder, and the test that covers each.
OTHERWISE_TESTED = {
    "Archives_Delete": "test_resources.py::test_archives_have_their_own_lifecycle",
    "Archives_List": "test_resources.py::test_archives_have_their_own_lifecycle",
    "Archives_Update": "test_resources.py::test_archives_have_their_own_lifecycle",
    "ConnectedRegistries_Deactivate": "test_actions.py::test_deactivate_connected_registry",
}


def test_every_operation_is_covered() -> None:
    if not DOCUMENT.exists():
        pytest.skip("the spec folder is not beside the repository")
    with_examples = {case.values[1] for case in _cases()}
    assert with_examples | set(OTHERWISE_TESTED) == set(apimodel.operations())
    assert not with_examples & set(OTHERWISE_TESTED)


def test_every_example_has_a_case() -> None:
    if not DOCUMENT.exists():
        pytest.skip("the spec folder is not beside the repository")
    names = {case.values[0].name for case in _cases()}
    on_disk = {p.name for folder in EXAMPLE_FOLDERS for p in folder.glob("*.json")}
    assert names == on_disk
    for key in [*EXCEPTIONS, *EXPECTED_FIELDS]:
        assert key.split(".json")[0] + ".json" in names, key
