"""Small helpers for reading and writing the operator's custom resources in tests."""

from __future__ import annotations

import copy
import functools
import json
import uuid
from datetime import datetime

import yaml
from kubernetes import client

from tests.e2e.conftest import GROUP, ROOT, SUBSCRIPTION, VERSION, wait_for


def unique_name(prefix: str = "acre2e") -> str:
    """Return an ARM-valid registry name that no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def registry_manifest(name: str, *, azure_name: str | None = None, sku: str = "Premium",
                      resource_group: str = "e2e-rg", location: str = "westus2",
                      properties: dict | None = None, tags: dict | None = None) -> dict:
    spec = {"resourceGroup": resource_group, "location": location, "sku": {"name": sku}}
    if azure_name is not None:
        spec["azureName"] = azure_name
    if properties is not None:
        spec["properties"] = properties
    if tags is not None:
        spec["tags"] = tags
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Registry",
            "metadata": {"name": name}, "spec": spec}


def registry_arm_id(azure_name: str, resource_group: str = "e2e-rg") -> str:
    return (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.ContainerRegistry/registries/{azure_name}")


class Resources:
    """CRUD on one plural of the operator's API group in one namespace."""

    def __init__(self, custom: client.CustomObjectsApi, namespace: str, plural: str):
        self.custom = custom
        self.namespace = namespace
        self.plural = plural

    def create(self, body: dict) -> dict:
        return self.custom.create_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, body)

    def get(self, name: str) -> dict | None:
        try:
            return self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, self.plural, name)
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def patch(self, name: str, body: dict) -> dict:
        return self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, name, body)

    def delete(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, name)

    def wait_condition(self, name: str, condition: str, status: str = "True", *,
                       timeout: float = 90, generation: bool = True) -> dict:
        """Wait until the condition has the status for the object's current generation."""

        def check():
            obj = self.get(name)
            if obj is None:
                return None
            found = condition_of(obj, condition)
            if found is None or found.get("status") != status:
                return None
            if generation and found.get("observedGeneration") != obj["metadata"]["generation"]:
                return None
            return obj

        return wait_for(check, timeout=timeout, what=f"{self.plural}/{name} {condition}={status}")

    def wait_gone(self, name: str, *, timeout: float = 90) -> None:
        wait_for(lambda: self.get(name) is None, timeout=timeout, what=f"{self.plural}/{name} gone")


def condition_of(obj: dict, condition: str) -> dict | None:
    for entry in (obj.get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition:
            return entry
    return None


def request_time(entry: dict) -> float:
    """Return a request log entry's time as seconds since the epoch."""
    value = entry["time"]
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(value).timestamp()


@functools.cache
def _kinds() -> dict:
    path = ROOT / "operator" / "acr_operator" / "generated" / "kinds.json"
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def plural_of(kind: str) -> str:
    return _kinds()[kind]["plural"]


def write_method(kind: str) -> str:
    """Return the method that changes an existing resource of `kind`: PATCH if the API has one."""
    return "PATCH" if _kinds()[kind]["operations"].get("update") else "PUT"


@functools.cache
def _examples() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") not in found:
                found[document["kind"]] = document
    return found


def example(kind: str) -> dict:
    """Return a copy of the manifest of `kind` in examples/, without its namespace."""
    manifest = _examples().get(kind)
    assert manifest is not None, f"examples/ has no manifest of kind {kind}"
    manifest = copy.deepcopy(manifest)
    manifest["metadata"].pop("namespace", None)
    return manifest


def writes_at(emulator, arm_id: str, *, after: int = 0) -> list[dict]:
    """Return the PUT, PATCH and DELETE requests sent to `arm_id` after log entry `after`."""
    return [
        entry for entry in emulator.requests()
        if entry["seq"] > after and entry["path"].lower() == arm_id.lower()
        and entry["method"] in ("PUT", "PATCH", "DELETE")
    ]


def last_seq(emulator) -> int:
    """Return the sequence number of the newest request in the emulator's log (0 when empty)."""
    return max((entry["seq"] for entry in emulator.requests()), default=0)


def dig(document, path: str):
    """Return the value at a dotted path (numbers index lists), or None where it is missing."""
    value = document
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value
