"""Every kind end to end: created to Ready, changed once, deleted only once ARM confirms.

Each case starts from the kind's manifest in examples/, in a namespace of
its own with a Premium Registry named demo-registry (the name the examples
use in registryRef) and the example objects the manifest refers to. The
registry's Azure name is unique per test, so every ARM id is too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from kubernetes import client

from acr_operator.handlers import FINALIZER
from tests.e2e.conftest import wait_for
from tests.e2e.kinds import (
    Resources,
    condition_of,
    dig,
    example,
    last_seq,
    plural_of,
    unique_name,
    write_method,
    writes_at,
)

pytestmark = pytest.mark.e2e

# Every long-running operation takes 3 seconds, long enough to see a deletion held.
LRO_CONFIG = {"lro": "recorded", "operationSeconds": 3, "retryAfter": 1}
REGISTRY = "demo-registry"
PENDING_ENDPOINT = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/app-rg"
                    "/providers/Microsoft.Network/privateEndpoints/app-endpoint")


class Bench:
    """One test's namespace: creates example objects and reads them back."""

    def __init__(self, custom, api, namespace: str, emulator):
        self.custom = custom
        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.emulator = emulator
        self.registry_azure_name = unique_name()

    def of(self, kind: str) -> Resources:
        return Resources(self.custom, self.namespace, plural_of(kind))

    def manifest(self, kind: str) -> dict:
        body = example(kind)
        if kind == "Registry":
            body["metadata"]["name"] = REGISTRY
            body["spec"]["azureName"] = self.registry_azure_name
            # A connected registry needs the dedicated data endpoint of its registry.
            body["spec"].setdefault("properties", {})["dataEndpointEnabled"] = True
        return body

    def create(self, kind: str, body: dict | None = None) -> str:
        """Create an object (the kind's example unless `body` is given); return its name."""
        body = self.manifest(kind) if body is None else body
        if kind == "Secret":
            self.core.create_namespaced_secret(self.namespace, body)
        elif kind == "PrivateEndpointConnection":
            # In Azure, the private endpoint's owner creates the connection as Pending.
            # The emulator's control API does that here, before the CR adopts it.
            self.emulator.control("POST", "private-endpoint-connections", {
                "registryId": self.id_of("Registry", REGISTRY),
                "name": body["spec"].get("azureName", body["metadata"]["name"]),
                "privateEndpointId": PENDING_ENDPOINT,
            })
            self.of(kind).create(body)
        else:
            self.of(kind).create(body)
        return body["metadata"]["name"]

    def ready(self, kind: str, name: str) -> dict:
        return self.of(kind).wait_condition(name, "Ready")

    def first_ready(self, kind: str, name: str) -> dict:
        """Wait for the object's first Ready condition and return it."""

        def check():
            obj = self.of(kind).get(name)
            return condition_of(obj, "Ready") if obj else None

        return wait_for(check, timeout=30, what=f"{kind} {name} to get a Ready condition")

    def id_of(self, kind: str, name: str) -> str:
        return self.of(kind).get(name)["status"]["id"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One kind: what it needs first, and the change it accepts (or the one it rejects)."""

    kind: str
    # Kinds whose examples are created first, besides the Registry. Each must be
    # Ready before the case starts, except a Secret, which only has to exist.
    needs: tuple[str, ...] = ()
    # A merge patch of spec, and the values (by dotted path) ARM must then have.
    change: Callable[[Bench], dict] | None = None
    expect: Callable[[Bench], dict] | None = None
    # For kinds that cannot change in place: a spec patch that the API server
    # rejects, and the text its rejection must contain.
    frozen: tuple[dict, str] | None = None


def _second_credential_set(bench: Bench) -> dict:
    """Create a second CredentialSet and return the patch that moves the CacheRule to it."""
    body = bench.manifest("CredentialSet")
    body["metadata"]["name"] = "quay-credentials"
    body["spec"]["properties"]["loginServer"] = "quay.io"
    bench.create("CredentialSet", body)
    bench.ready("CredentialSet", "quay-credentials")
    return {"properties": {"credentialSetRef": {"name": "quay-credentials"}}}


NEW_PASSWORD_URI = "https://examplevault.vault.azure.net/secrets/dockerhub-password-2"

CASES = [
    Case(
        "Registry",
        change=lambda b: {"tags": {"team": "apps"}},
        expect=lambda b: {"tags.team": "apps"},
    ),
    Case(
        "Replication",
        change=lambda b: {"properties": {"regionEndpointEnabled": False}},
        expect=lambda b: {"properties.regionEndpointEnabled": False},
    ),
    Case(
        "Webhook",
        needs=("Secret",),
        change=lambda b: {"properties": {"actions": ["push"]}},
        expect=lambda b: {"properties.actions": ["push"]},
    ),
    Case(
        "ScopeMap",
        change=lambda b: {"properties": {"description": "Read-only rights"}},
        expect=lambda b: {"properties.description": "Read-only rights"},
    ),
    Case(
        "Token",
        needs=("ScopeMap",),
        change=lambda b: {"properties": {"status": "disabled"}},
        expect=lambda b: {"properties.status": "disabled"},
    ),
    Case(
        "CredentialSet",
        change=lambda b: {"properties": {"authCredentials": [{
            "name": "Credential1",
            "usernameSecretIdentifier":
                "https://examplevault.vault.azure.net/secrets/dockerhub-username",
            "passwordSecretIdentifier": NEW_PASSWORD_URI,
        }]}},
        expect=lambda b: {"properties.authCredentials.0.passwordSecretIdentifier": NEW_PASSWORD_URI},
    ),
    Case(
        "CacheRule",
        needs=("CredentialSet",),
        change=_second_credential_set,
        expect=lambda b: {
            "properties.credentialSetResourceId": b.id_of("CredentialSet", "quay-credentials"),
        },
    ),
    Case(
        "ConnectedRegistry",
        needs=("ScopeMap", "Token"),
        change=lambda b: {"properties": {"logging": {"logLevel": "Debug"}}},
        expect=lambda b: {"properties.logging.logLevel": "Debug"},
    ),
    Case(
        "ExportPipeline",
        change=lambda b: {"properties": {"options": ["OverwriteBlobs", "ContinueOnErrors"]}},
        expect=lambda b: {"properties.options": ["OverwriteBlobs", "ContinueOnErrors"]},
    ),
    Case(
        "ImportPipeline",
        change=lambda b: {"properties": {"trigger": {"sourceTrigger": {"status": "Disabled"}}}},
        expect=lambda b: {"properties.trigger.sourceTrigger.status": "Disabled"},
    ),
    Case(
        "PipelineRun",
        needs=("ExportPipeline",),
        change=lambda b: {"properties": {"forceUpdateTag": "second-run"}},
        expect=lambda b: {"properties.forceUpdateTag": "second-run"},
    ),
    Case(
        "PrivateEndpointConnection",
        change=lambda b: {"properties": {"privateLinkServiceConnectionState": {
            "description": "Approved again"}}},
        expect=lambda b: {
            "properties.privateLinkServiceConnectionState.description": "Approved again",
        },
    ),
    Case(
        "Archive",
        change=lambda b: {"properties": {"publishedVersion": "example-rpm-archive-v1"}},
        expect=lambda b: {"properties.publishedVersion": "example-rpm-archive-v1"},
    ),
    Case(
        "ArchiveVersion",
        needs=("Archive",),
        frozen=({"archiveRef": {"name": "another-archive"}}, "spec.archiveRef is immutable"),
    ),
]


@pytest.fixture
def bench(custom, api, namespace, operator, emulator):
    emulator.control("PUT", "config", LRO_CONFIG)
    return Bench(custom, api, namespace, emulator)


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_kind_lifecycle(case: Case, bench: Bench):
    emulator = bench.emulator
    resources = bench.of(case.kind)
    if case.kind != "Registry":
        bench.create("Registry")
    for need in case.needs:
        bench.create(need)
    for need in ("Registry", *case.needs):
        if need != "Secret" and need != case.kind:
            bench.ready(need, bench.manifest(need)["metadata"]["name"])

    # Create: Ready, with the ARM id, for the current generation.
    name = bench.create(case.kind)
    obj = bench.ready(case.kind, name)
    arm_id = obj["status"].get("id")
    assert arm_id
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert emulator.resource(arm_id) is not None

    # Change: one write carries the change and ARM stores it, or the API server rejects it.
    if case.frozen is not None:
        patch, rejection = case.frozen
        with pytest.raises(client.ApiException) as raised:
            resources.patch(name, {"spec": patch})
        assert raised.value.status == 422
        assert rejection in raised.value.body
    else:
        before = last_seq(emulator)
        resources.patch(name, {"spec": case.change(bench)})
        resources.wait_condition(name, "Ready")
        writes = writes_at(emulator, arm_id, after=before)
        assert [entry["method"] for entry in writes] == [write_method(case.kind)]
        stored = emulator.resource(arm_id)
        for path, value in case.expect(bench).items():
            assert dig(writes[0]["body"], path) == value, path
            assert dig(stored, path) == value, path

    # Delete: held by the finalizer while ARM's operation runs, then gone from both.
    resources.delete(name)
    wait_for(lambda: [e for e in writes_at(emulator, arm_id) if e["method"] == "DELETE"],
             timeout=30, what=f"the DELETE of {arm_id}")
    # Read the object first: if it exists now, it existed while ARM still had the resource.
    terminating = resources.get(name)
    still_in_azure = emulator.resource(arm_id)
    assert terminating is not None
    assert terminating["metadata"].get("deletionTimestamp")
    assert FINALIZER in terminating["metadata"]["finalizers"]
    assert still_in_azure is not None
    resources.wait_gone(name, timeout=60)
    assert emulator.resource(arm_id) is None
    deletes = [e for e in writes_at(emulator, arm_id) if e["method"] == "DELETE"]
    assert len(deletes) == 1


def test_reference_waits_for_scope_map(bench: Bench):
    bench.create("Registry")
    bench.ready("Registry", REGISTRY)
    token = bench.create("Token")
    scope_map = example("ScopeMap")["metadata"]["name"]

    ready = bench.first_ready("Token", token)
    assert ready["status"] == "False"
    assert ready["reason"] == "WaitingForReference"
    assert f"ScopeMap {scope_map}" in ready["message"]
    assert writes_at(bench.emulator, f"{bench.id_of('Registry', REGISTRY)}/tokens/{token}") == []

    bench.create("ScopeMap")
    obj = bench.ready("Token", token)
    assert obj["status"]["id"].lower().endswith(f"/tokens/{token}")
    stored = bench.emulator.resource(obj["status"]["id"])
    assert stored["properties"]["scopeMapId"] == bench.id_of("ScopeMap", scope_map)


def test_reference_waits_for_registry(bench: Bench):
    # A Basic registry cannot have a data endpoint, so ARM rejects it and it stalls.
    registry = bench.manifest("Registry")
    registry["spec"]["sku"] = {"name": "Basic"}
    bench.create("Registry", registry)
    bench.of("Registry").wait_condition(REGISTRY, "Stalled")
    scope_map = bench.create("ScopeMap")

    ready = bench.first_ready("ScopeMap", scope_map)
    assert ready["status"] == "False"
    assert ready["reason"] == "WaitingForParent"
    assert f"Registry {REGISTRY}" in ready["message"]
    assert bench.emulator.writes(f"{bench.registry_azure_name}/scopeMaps") == []

    bench.of("Registry").patch(REGISTRY, {"spec": {"sku": {"name": "Premium"}}})
    obj = bench.ready("ScopeMap", scope_map)
    assert bench.emulator.resource(obj["status"]["id"]) is not None


def test_parent_gone_children_released(bench: Bench):
    bench.create("Registry")
    children = ("Replication", "ScopeMap", "Token", "CredentialSet", "CacheRule")
    for kind in children:
        bench.create(kind)
    names = {kind: example(kind)["metadata"]["name"] for kind in children}
    ids = {kind: bench.ready(kind, name)["status"]["id"] for kind, name in names.items()}
    registry_id = bench.id_of("Registry", REGISTRY)

    bench.of("Registry").delete(REGISTRY)
    bench.of("Registry").wait_gone(REGISTRY, timeout=60)
    assert bench.emulator.resource(registry_id) is None
    for kind, name in names.items():
        bench.of(kind).delete(name)

    for kind, name in names.items():
        bench.of(kind).wait_gone(name, timeout=60)
    stored = [arm_id for arm_id in ids.values() if bench.emulator.resource(arm_id) is not None]
    assert stored == []


# For each kind, a change of a field that Azure accepts only at create (or of the
# parent reference), and text that the API server's rejection must contain.
CREATE_ONLY = {
    "Registry": ({"location": "eastus2"}, "spec.location is immutable"),
    "Replication": ({"location": "eastus2"}, "spec.location is immutable"),
    "Webhook": ({"location": "eastus2"}, "spec.location is immutable"),
    "ScopeMap": ({"registryRef": {"name": "other-registry"}}, "spec.registryRef is immutable"),
    "Token": ({"registryRef": {"name": "other-registry"}}, "spec.registryRef is immutable"),
    "CredentialSet": ({"properties": {"loginServer": "quay.io"}},
                      "spec.properties.loginServer is immutable"),
    "CacheRule": ({"properties": {"sourceRepository": "docker.io/library/redis"}},
                  "spec.properties.sourceRepository is immutable"),
    "ConnectedRegistry": ({"properties": {"mode": "ReadWrite"}},
                          "spec.properties.mode is immutable"),
    "ExportPipeline": ({"location": "eastus2"}, "spec.location is immutable"),
    "ImportPipeline": ({"location": "eastus2"}, "spec.location is immutable"),
    "PipelineRun": ({"registryRef": {"name": "other-registry"}}, "spec.registryRef is immutable"),
    "PrivateEndpointConnection": ({"registryRef": {"name": "other-registry"}},
                                  "spec.registryRef is immutable"),
    "Archive": ({"properties": {"packageSource": {"url": "https://other.example.com/rpm"}}},
                "spec.properties.packageSource is immutable"),
    "ArchiveVersion": ({"archiveRef": {"name": "another-archive"}}, "spec.archiveRef is immutable"),
}


@pytest.mark.parametrize("kind", sorted(CREATE_ONLY))
def test_create_only_field_rejected(kind: str, bench: Bench):
    patch, rejection = CREATE_ONLY[kind]
    resources = bench.of(kind)
    body = bench.manifest(kind)
    created = resources.create(body)
    name = body["metadata"]["name"]

    with pytest.raises(client.ApiException) as raised:
        resources.patch(name, {"spec": patch})

    assert raised.value.status == 422
    assert rejection in raised.value.body
    assert resources.get(name)["metadata"]["generation"] == created["metadata"]["generation"]
