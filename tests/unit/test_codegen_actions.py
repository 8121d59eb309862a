"""The generated facts behind actions: the ImageImport kind and the action trigger fields."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from acr_operator import apimodel, codegen
from acr_operator.codegen.__main__ import DEFAULT_SPEC_DIR, REPO_ROOT

SPEC_DIR = (REPO_ROOT / DEFAULT_SPEC_DIR).resolve()
CRD_DIR = REPO_ROOT / codegen.CRD_DIR

needs_spec = pytest.mark.skipif(
    not (SPEC_DIR / "containerregistry.json").is_file(),
    reason=f"the OpenAPI document is not at {SPEC_DIR}",
)


def _version(plural: str) -> dict:
    crd = yaml.safe_load((CRD_DIR / f"{plural}.yaml").read_text(encoding="utf-8"))
    return crd["spec"]["versions"][0]


def _spec(plural: str) -> dict:
    return _version(plural)["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_image_import_descriptor() -> None:
    desc = apimodel.kinds()["ImageImport"]
    assert desc["oneShot"] is True
    assert desc["operations"] == {"action": "Registries_ImportImage"}
    assert desc["resourcePath"] == apimodel.operation("Registries_ImportImage")["path"]
    assert desc["parent"] == "Registry"
    assert desc["shortNames"] == ["acrimg"]
    assert desc["definition"] == "ImportImageParameters"
    assert [r["path"] for r in desc["references"]] == ["source.resourceId"]
    assert [s["refField"] for s in desc["secretInputs"]] == ["source.credentials.passwordSecretRef"]


def test_image_import_crd_spec_rules() -> None:
    spec = _spec("imageimports")
    rules = {v["rule"]: v["message"] for v in spec["x-kubernetes-validations"]}
    assert "create a new ImageImport" in rules["self == oldSelf"]
    assert "has(self.registryRef) != has(self.registryId)" in rules
    source = spec["properties"]["source"]
    credentials = source["properties"]["credentials"]["properties"]
    assert "password" not in credentials
    assert credentials["passwordSecretRef"]["required"] == ["name", "key"]
    assert set(source["properties"]) == {"credentials", "registryRef", "registryUri",
                                         "resourceId", "sourceImage"}
    assert spec["properties"]["mode"]["enum"] == ["NoForce", "Force"]
    assert "azureName" not in spec["properties"]


def test_image_import_crd_columns_and_status() -> None:
    version = _version("imageimports")
    columns = [(c["name"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert [name for name, _ in columns] == ["Ready", "Reason", "Target", "Age"]
    assert dict(columns)["Target"] == ".spec.targetTags[0]"
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {"conditions", "startedAt", "completedAt", "result", "operation"} <= set(status)


@needs_spec
def test_every_import_example_fits_the_image_import_spec() -> None:
    doc = json.loads((SPEC_DIR / "containerregistry.json").read_text())
    operation = doc["paths"][apimodel.operation("Registries_ImportImage")["path"]]["post"]
    schema = _spec("imageimports")
    checked = 0
    for example in operation["x-ms-examples"].values():
        params = json.loads((SPEC_DIR / example["$ref"]).read_text())["parameters"]
        spec = json.loads(json.dumps(params["parameters"]))
        credentials = spec["source"].get("credentials")
        if credentials and credentials.pop("password", None) is not None:
            credentials["passwordSecretRef"] = {"name": "source", "key": "password"}
        spec["registryRef"] = {"name": "target"}
        errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(spec)]
        assert not errors, f"{example['$ref']}: {errors}"
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize(("kind", "field", "schema_key"), [
    ("Webhook", "ping", "x-kubernetes-int-or-string"),
    ("ConnectedRegistry", "deactivate", "type"),
])
def test_action_trigger_fields_are_operator_fields(kind: str, field: str, schema_key: str) -> None:
    desc = apimodel.kinds()[kind]
    assert field in desc["operatorFields"]
    assert schema_key in _spec(desc["plural"])["properties"][field]
