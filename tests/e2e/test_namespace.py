"""Deleting a whole namespace: every Azure resource of its objects goes, then the namespace.

kube-controller-manager's namespace controller deletes the objects of a
terminating namespace all at once, parents and children together, and then
waits for their finalizers. The operator must release each one after ARM
confirms the deletion, in whatever order the deletions arrive.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client

from tests.e2e.conftest import wait_for
from tests.e2e.kinds import Resources, example, plural_of, unique_name

pytestmark = pytest.mark.e2e

# Deletes are long-running operations of 3 seconds each.
LRO_CONFIG = {"lro": "recorded", "operationSeconds": 3, "retryAfter": 1}
CHILDREN = ("Replication", "Webhook", "ScopeMap", "Token", "CredentialSet", "CacheRule")
NAMESPACE_GONE_SECONDS = 120


@pytest.fixture
def doomed(api):
    """A namespace that the test deletes itself."""
    core = client.CoreV1Api(api)
    name = f"e2e-ns-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as error:
        if error.status != 404:
            raise


def _namespace_gone(core: client.CoreV1Api, name: str) -> bool:
    try:
        core.read_namespace(name)
    except client.ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def test_namespace_delete_removes_azure_resources(kube, api, custom, doomed, operator, emulator):
    emulator.control("PUT", "config", LRO_CONFIG)
    core = client.CoreV1Api(api)
    registry = example("Registry")
    registry["spec"]["azureName"] = unique_name()
    Resources(custom, doomed, "registries").create(registry)
    core.create_namespaced_secret(doomed, example("Secret"))
    objects = {"Registry": registry["metadata"]["name"]}
    for kind in CHILDREN:
        body = example(kind)
        Resources(custom, doomed, plural_of(kind)).create(body)
        objects[kind] = body["metadata"]["name"]
    ids = {
        kind: Resources(custom, doomed, plural_of(kind)).wait_condition(name, "Ready")["status"]["id"]
        for kind, name in objects.items()
    }
    assert all(emulator.resource(arm_id) is not None for arm_id in ids.values())

    kube.run("kubectl", "delete", "namespace", doomed, "--wait=false")

    wait_for(lambda: _namespace_gone(core, doomed), timeout=NAMESPACE_GONE_SECONDS,
             interval=1, what=f"namespace {doomed} to go away")
    left = sorted(
        arm_id for arm_id in emulator.control("GET", "resources")
        if arm_id.lower().startswith(ids["Registry"].lower())
    )
    assert left == []
    deleted = {e["path"].lower() for e in emulator.requests(method="DELETE")}
    assert ids["Registry"].lower() in deleted
