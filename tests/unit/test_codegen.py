"""The code generator's committed output: up to date, and saying what it must."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from acr_operator import apimodel, codegen
from acr_operator.codegen.__main__ import DEFAULT_SPEC_DIR, REPO_ROOT

SPEC_DIR = (REPO_ROOT / DEFAULT_SPEC_DIR).resolve()
GENERATED = REPO_ROOT / codegen.GENERATED_DIR
CRD_DIR = REPO_ROOT / codegen.CRD_DIR

KINDS = ["Registry", "Replication", "Webhook", "Token", "ScopeMap", "CacheRule", "CredentialSet",
         "ConnectedRegistry", "ExportPipeline", "ImportPipeline", "PipelineRun",
         "PrivateEndpointConnection", "Archive", "ArchiveVersion", "ImageImport"]


def _json(name: str) -> dict:
    return json.loads((GENERATED / name).read_text(encoding="utf-8"))


def _crd(plural: str) -> dict:
    return yaml.safe_load((CRD_DIR / f"{plural}.yaml").read_text(encoding="utf-8"))


def _spec(plural: str) -> dict:
    return _crd(plural)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def _all_crds() -> list[Path]:
    return sorted(CRD_DIR.glob("*.yaml"))


needs_spec = pytest.mark.skipif(
    not (SPEC_DIR / "containerregistry.json").is_file(),
    reason=f"the OpenAPI document is not at {SPEC_DIR}; regeneration cannot be checked here",
)


@needs_spec
def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    written = codegen.generate(SPEC_DIR, DEFAULT_SPEC_DIR, tmp_path)
    stale = [p.name for p in _all_crds() if Path("crds") / p.name not in written]
    assert not stale, f"crds/ holds files the generator no longer writes: {stale}"
    changed = [str(rel) for rel in written
               if (tmp_path / rel).read_text() != (REPO_ROOT / rel).read_text()
               if (REPO_ROOT / rel).exists()]
    missing = [str(rel) for rel in written if not (REPO_ROOT / rel).exists()]
    assert not missing + changed, (
        f"generated files are out of date: {missing + changed}; run `python -m acr_operator.codegen`"
    )


@needs_spec
def test_every_create_example_fits_its_crd_spec() -> None:
    doc = json.loads((SPEC_DIR / "containerregistry.json").read_text())
    ops = {op["operationId"]: op for item in doc["paths"].values()
           for op in item.values() if isinstance(op, dict) and "operationId" in op}
    checked = 0
    for kind, desc in apimodel.kinds().items():
        if desc.get("oneShot"):
            continue  # see test_every_import_example_fits_the_image_import_spec
        schema = _spec(desc["plural"])
        for example in ops[desc["operations"]["create"]].get("x-ms-examples", {}).values():
            path = SPEC_DIR / example["$ref"]
            if not path.is_file():
                continue
            params = json.loads(path.read_text())["parameters"]
            spec = _example_spec(desc, params)
            errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(spec)]
            assert not errors, f"{kind} example {path.name}: {errors}"
            checked += 1
    assert checked >= 15


def _example_spec(desc: dict, params: dict) -> dict:
    body = desc["definition"] and next(
        (v for k, v in params.items() if isinstance(v, dict) and k != "api-version"), {})
    spec = dict(body or {})
    for secret in desc["secretInputs"]:
        holder = spec.get("properties", {})
        if holder.pop(secret["path"].rpartition(".")[2], None) is not None:
            holder[secret["refField"].rpartition(".")[2]] = {"name": "hook", "key": "value"}
    if desc["parentRef"]:
        spec[desc["parentRef"]["refField"]] = {"name": "parent"}
    else:
        spec["resourceGroup"] = "rg"
    for name in desc["extraPathParameters"]:
        spec[name] = params[name]
    return spec


def test_api_json_lists_every_operation() -> None:
    api = _json("api.json")
    assert api["apiVersion"] == "2025-06-01-preview"
    assert len(api["operations"]) == 79
    assert len({op["operationId"] for op in api["operations"]}) == 79
    create = apimodel.operation("Registries_Create")
    assert create["method"] == "PUT"
    assert create["pathParameters"]["registryName"] == {
        "type": "string", "pattern": "^[a-zA-Z0-9]*$", "minLength": 5, "maxLength": 50}
    assert create["pathParameters"]["resourceGroupName"]["maxLength"] == 90
    assert create["responses"] == {"200": "Registry", "201": "Registry",
                                   "default": "ErrorResponse"}
    assert (create["longRunning"], create["finalStateVia"]) == (True, "azure-async-operation")
    assert apimodel.operation("Registries_Delete")["finalStateVia"] == "location"
    assert apimodel.operation("Replications_List")["pageable"] == {
        "itemName": "value", "nextLinkName": "nextLink"}


def test_api_json_definitions_carry_facts_but_no_prose() -> None:
    found: set[str] = set()
    for schema in apimodel.definitions().values():
        _collect_keywords(schema, found)
    assert not {k for k in found if k in ("description", "title", "example", "examples")
                or k.startswith("x-")}
    properties = apimodel.definitions()["RegistryProperties"]["properties"]
    assert properties["loginServer"]["readOnly"] is True
    assert properties["provisioningState"]["$ref"] == "#/definitions/ProvisioningState"


def _collect_keywords(node: dict, found: set[str]) -> None:
    # Keys of `properties` are field names (one is even called "description"), not keywords.
    found.update(node)
    for sub in node.get("properties", {}).values():
        _collect_keywords(sub, found)
    for sub in node.get("allOf", []):
        _collect_keywords(sub, found)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _collect_keywords(node[key], found)


def test_validator_resolves_refs_inside_api_json() -> None:
    validator = apimodel.validator("Registry")
    assert not list(validator.iter_errors({"location": "westeurope", "sku": {"name": "Basic"}}))
    messages = [e.message for e in validator.iter_errors({"location": "w", "sku": {"name": "Gold"}})]
    assert any("Gold" in m for m in messages)


def test_match_finds_operation_and_parameters_ignoring_case() -> None:
    path = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg1/providers/"
            "microsoft.containerregistry/registries/myreg1/packages/debian/archives/arch1")
    op, values = apimodel.match("put", path)
    assert op["operationId"] == "Archives_Create"
    assert values == {"subscriptionId": "00000000-0000-0000-0000-000000000000",
                      "resourceGroupName": "rg1", "registryName": "myreg1",
                      "packageType": "debian", "archiveName": "arch1"}
    assert apimodel.match("GET", "/subscriptions/s/unknown") is None


def test_kinds_json_has_all_kinds_with_their_names() -> None:
    kinds = apimodel.kinds()
    assert sorted(kinds) == sorted(KINDS)
    short_names = [name for desc in kinds.values() for name in desc["shortNames"]]
    assert len(set(short_names)) == len(short_names)
    assert kinds["Registry"]["parent"] is None
    assert kinds["ArchiveVersion"]["parent"] == "Archive"
    assert kinds["ArchiveVersion"]["parentRef"] == {"refField": "archiveRef",
                                                    "idField": "archiveId"}
    assert all(kinds[k]["parent"] == "Registry" for k in KINDS
               if k not in ("Registry", "ArchiveVersion"))


@pytest.mark.parametrize(("kind", "expected"), [
    ("Registry", {"location", "properties.zoneRedundancy",
                  "properties.autoGeneratedDomainNameLabelScope"}),
    ("Replication", {"location", "properties.zoneRedundancy"}),
    ("Webhook", {"location"}),
    ("CacheRule", {"properties.sourceRepository", "properties.targetRepository"}),
    ("CredentialSet", {"properties.loginServer"}),
    ("ConnectedRegistry", {"properties.mode", "properties.parent.id",
                           "properties.parent.syncProperties.tokenId"}),
    ("Archive", {"properties.packageSource", "properties.repositoryEndpointPrefix"}),
])
def test_create_only_fields(kind: str, expected: set[str]) -> None:
    create_only = set(apimodel.kinds()[kind]["createOnly"])
    assert expected <= create_only
    if kind == "Registry":
        assert create_only == expected


@pytest.mark.parametrize("kind", ["ExportPipeline", "ImportPipeline", "PipelineRun",
                                  "PrivateEndpointConnection", "ArchiveVersion"])
def test_kinds_without_patch_have_no_update(kind: str) -> None:
    desc = apimodel.kinds()[kind]
    assert desc["operations"]["update"] is None
    assert desc["updateDefinition"] is None


def test_references_and_extra_path_parameters() -> None:
    kinds = apimodel.kinds()
    refs = {(k, r["path"]): (r["refField"], tuple(r["kinds"])) for k, d in kinds.items()
            for r in d["references"]}
    assert refs == {
        ("Token", "properties.scopeMapId"): ("scopeMapRef", ("ScopeMap",)),
        ("CacheRule", "properties.credentialSetResourceId"): ("credentialSetRef",
                                                              ("CredentialSet",)),
        ("ConnectedRegistry", "properties.parent.syncProperties.tokenId"): ("tokenRef",
                                                                           ("Token",)),
        ("ConnectedRegistry", "properties.clientTokenIds"): ("clientTokenRefs", ("Token",)),
        ("ConnectedRegistry", "properties.parent.id"): ("connectedRegistryRef",
                                                        ("ConnectedRegistry",)),
        ("PipelineRun", "properties.request.pipelineResourceId"): (
            "pipelineRef", ("ExportPipeline", "ImportPipeline")),
        ("ImageImport", "source.resourceId"): ("registryRef", ("Registry",)),
    }
    assert kinds["Archive"]["extraPathParameters"]["packageType"]["specField"] == "packageType"
    assert "packageType" in kinds["Archive"]["immutable"]


def test_registry_crd_names_columns_and_category() -> None:
    crd = _crd("registries")
    names = crd["spec"]["names"]
    assert crd["metadata"]["name"] == "registries.acr-operator.dev"
    assert names["shortNames"] == ["acrreg"]
    assert names["categories"] == ["acr"]
    version = crd["spec"]["versions"][0]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns == {
        "Ready": '.status.conditions[?(@.type=="Ready")].status',
        "Reason": '.status.conditions[?(@.type=="Ready")].reason',
        "LoginServer": ".status.properties.loginServer",
        "Age": ".metadata.creationTimestamp",
    }


def test_registry_crd_spec_carries_document_facts() -> None:
    spec = _spec("registries")
    props = spec["properties"]
    assert props["azureName"]["pattern"] == "^[a-zA-Z0-9]*$"
    assert (props["azureName"]["minLength"], props["azureName"]["maxLength"]) == (5, 50)
    assert props["sku"]["properties"]["name"]["enum"] == ["Basic", "Standard", "Premium"]
    assert props["resourceGroup"]["pattern"] == r"^[-\w\._\(\)]+$"
    assert {"resourceGroup", "location", "sku"} <= set(spec["required"])
    arm = props["properties"]["properties"]
    for read_only in ("loginServer", "creationDate", "provisioningState", "status",
                      "privateEndpointConnections", "dataEndpointHostNames"):
        assert read_only not in arm
    for read_only in ("id", "name", "type", "systemData"):
        assert read_only not in props


def test_registry_crd_freezes_create_only_and_placement_fields() -> None:
    spec = _spec("registries")
    frozen = ["azureName", "location", "resourceGroup", "subscriptionId",
              "properties.zoneRedundancy", "properties.autoGeneratedDomainNameLabelScope"]
    for path in frozen:
        node = spec
        for part in path.split("."):
            node = node["properties"][part]
        rules = [v["rule"] for v in node.get("x-kubernetes-validations", [])]
        assert "self == oldSelf" in rules, path
    spec_rules = [v["rule"] for v in spec["x-kubernetes-validations"]]
    assert "has(self.azureName) == has(oldSelf.azureName)" in spec_rules


def test_name_rule_guards_metadata_name_when_azure_name_is_absent() -> None:
    root = _crd("registries")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    (rule,) = root["x-kubernetes-validations"]
    assert rule["rule"] == ("has(self.spec.azureName) || "
                            "(self.metadata.name.matches('^[a-zA-Z0-9]{5,50}$'))")
    assert "spec.azureName" in rule["message"] and "5-50 letters and digits" in rule["message"]


def test_child_crd_needs_exactly_one_registry_placement() -> None:
    spec = _spec("replications")
    assert "registryRef" in spec["properties"] and "registryId" in spec["properties"]
    rules = {v["rule"]: v["message"] for v in spec["x-kubernetes-validations"]}
    message = rules["has(self.registryRef) != has(self.registryId)"]
    assert "spec.registryRef" in message and "spec.registryId" in message


def test_webhook_secrets_come_from_secret_refs() -> None:
    props = _spec("webhooks")["properties"]["properties"]
    assert "serviceUri" not in props["properties"]
    assert "customHeaders" not in props["properties"]
    assert props["properties"]["serviceUriSecretRef"]["required"] == ["name", "key"]
    assert props["properties"]["customHeadersSecretRef"]["required"] == ["name"]
    assert "serviceUriSecretRef" in props["required"]


def test_token_spec_has_no_password_values() -> None:
    credentials = _spec("tokens")["properties"]["properties"]["properties"]["credentials"]
    passwords = credentials["properties"]["passwords"]["items"]["properties"]
    assert "value" not in passwords


@pytest.mark.parametrize("path", _all_crds(), ids=lambda p: p.name)
def test_crd_passes_kubernetes_validate(path: Path) -> None:
    kubernetes_validate.validate(yaml.safe_load(path.read_text()), "1.36", strict=True)


@pytest.mark.parametrize("path", _all_crds(), ids=lambda p: p.name)
def test_crd_schema_is_structural(path: Path) -> None:
    crd = yaml.safe_load(path.read_text())
    assert path.read_text().startswith("# Generated by `python -m acr_operator.codegen`")
    problems: list[str] = []
    _check_structural(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], "", problems)
    assert not problems


def _check_structural(node: dict, where: str, problems: list[str]) -> None:
    untyped = ("x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string")
    if "type" not in node and not any(node.get(key) for key in untyped):
        problems.append(f"{where or '<root>'}: no type")
    for key in ("$ref", "allOf", "anyOf", "oneOf", "default", "uniqueItems"):
        if key in node:
            problems.append(f"{where}: has {key}")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{where}: properties together with additionalProperties")
    if node.get("format") not in (None, "date-time", "int32", "int64", "float", "double",
                                  "byte", "uuid"):
        problems.append(f"{where}: format {node['format']} unknown to the apiserver")
    for name, sub in node.get("properties", {}).items():
        _check_structural(sub, f"{where}.{name}", problems)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _check_structural(node[key], f"{where}[{key}]", problems)
