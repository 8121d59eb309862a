"""API server behaviour that the operator relies on, checked against the local control plane.

These tests check the harness, not the operator. The kube-apiserver must
validate CRD schemas (enum, pattern, CEL transition rule), keep the semantics of
generation and resourceVersion, honour finalizers and stream watch events. The
controller manager must garbage-collect dependents and empty deleted namespaces.
"""

from __future__ import annotations

import json
import uuid

import pytest
from kubernetes import client, watch

pytestmark = pytest.mark.e2e

GROUP = "harness.acr-operator.dev"
VERSION = "v1alpha1"
PLURAL = "widgets"
CRD_NAME = f"{PLURAL}.{GROUP}"
FINALIZER = f"{GROUP}/hold"
# Garbage collection and namespace deletion run in the controller manager. Its
# garbage collector learns of a new CRD only at its next discovery sync, every
# 30 s (a constant in kube-controller-manager 1.36, cmd/kube-controller-manager/app/core.go).
CONTROLLER_TIMEOUT = 120

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {
            "plural": PLURAL,
            "singular": "widget",
            "kind": "Widget",
            "listKind": "WidgetList",
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {
                                        "type": "string",
                                        "enum": ["small", "medium", "large"],
                                    },
                                    "label": {
                                        "type": "string",
                                        "pattern": "^[a-z][a-z0-9-]{0,30}$",
                                    },
                                    "region": {
                                        "type": "string",
                                        "x-kubernetes-validations": [
                                            {
                                                "rule": "self == oldSelf",
                                                "message": "region is immutable",
                                            }
                                        ],
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "phase": {"type": "string"},
                                    "observedGeneration": {"type": "integer"},
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def _established(crd) -> bool:
    return any(
        c.type == "Established" and c.status == "True" for c in (crd.status.conditions or [])
    )


@pytest.fixture(scope="module")
def widget_crd(api, wait_until):
    """Install the Widget CRD, wait until it is Established, and delete it after the module."""
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(WIDGET_CRD)

    def read_if_established():
        crd = extensions.read_custom_resource_definition(CRD_NAME)
        return crd if _established(crd) else None

    yield wait_until(read_if_established, 60, f"CRD {CRD_NAME} to be Established")
    extensions.delete_custom_resource_definition(CRD_NAME)


@pytest.fixture
def objects(api, widget_crd):
    return client.CustomObjectsApi(api)


def widget(name: str, size: str = "small", **spec) -> dict:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, **spec},
    }


def create(objects, namespace: str, body: dict) -> dict:
    return objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def get(objects, namespace: str, name: str) -> dict:
    return objects.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def patch(objects, namespace: str, name: str, body: dict) -> dict:
    return objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)


def get_or_none(objects, namespace: str, name: str) -> dict | None:
    try:
        return get(objects, namespace, name)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def rejection(call) -> tuple[int, dict]:
    """Run `call`, which must fail with an API error, and return (HTTP status, Status body)."""
    with pytest.raises(client.ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def cause_fields(status_body: dict) -> list[str]:
    return [cause.get("field") for cause in status_body.get("details", {}).get("causes", [])]


# 1. CRD schema validation ----------------------------------------------------


def test_crd_becomes_established(widget_crd):
    conditions = {c.type: c.status for c in widget_crd.status.conditions}
    assert conditions.get("NamesAccepted") == "True"
    assert conditions.get("Established") == "True"


def test_crd_keeps_status_subresource(widget_crd):
    assert widget_crd.spec.versions[0].subresources.status is not None


def test_valid_object_accepted(objects, namespace):
    created = create(
        objects, namespace, widget("valid", "medium", label="blue-1", region="westeurope")
    )
    assert created["spec"] == {"size": "medium", "label": "blue-1", "region": "westeurope"}
    assert created["metadata"]["uid"]


def test_wrong_enum_value_rejected(objects, namespace):
    status, body = rejection(lambda: create(objects, namespace, widget("bad-enum", "huge")))
    assert status == 422
    assert body["reason"] == "Invalid"
    assert "spec.size" in body["message"]
    assert 'Unsupported value: "huge"' in body["message"]
    assert "spec.size" in cause_fields(body)


def test_pattern_violation_rejected(objects, namespace):
    status, body = rejection(
        lambda: create(objects, namespace, widget("bad-label", label="Not_Valid"))
    )
    assert status == 422
    assert "spec.label" in body["message"]
    assert "should match" in body["message"]
    assert "spec.label" in cause_fields(body)


def test_immutable_field_change_rejected(objects, namespace):
    create(objects, namespace, widget("fixed-region", region="westeurope"))
    status, body = rejection(
        lambda: patch(objects, namespace, "fixed-region", {"spec": {"region": "eastus"}})
    )
    assert status == 422
    assert "spec.region" in body["message"]
    assert "region is immutable" in body["message"]
    assert "spec.region" in cause_fields(body)
    assert get(objects, namespace, "fixed-region")["spec"]["region"] == "westeurope"


def test_immutable_field_same_value_allowed(objects, namespace):
    create(objects, namespace, widget("same-region", region="westeurope"))
    updated = patch(
        objects, namespace, "same-region", {"spec": {"region": "westeurope", "size": "large"}}
    )
    assert updated["spec"]["size"] == "large"


# 2. Generation and optimistic concurrency ------------------------------------


def test_generation_increments_on_spec_change(objects, namespace):
    created = create(objects, namespace, widget("gen-spec"))
    assert created["metadata"]["generation"] == 1
    updated = patch(objects, namespace, "gen-spec", {"spec": {"size": "large"}})
    assert updated["metadata"]["generation"] == 2


def test_generation_unchanged_on_status_change(objects, namespace):
    create(objects, namespace, widget("gen-status"))
    updated = objects.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "gen-status",
        {"status": {"phase": "Ready", "observedGeneration": 1}},
    )
    assert updated["status"] == {"phase": "Ready", "observedGeneration": 1}
    assert updated["metadata"]["generation"] == 1


def test_status_ignored_on_main_resource(objects, namespace):
    # With the status subresource on, writes to the main resource drop .status.
    create(objects, namespace, widget("status-dropped"))
    updated = patch(objects, namespace, "status-dropped", {"status": {"phase": "Ready"}})
    assert "status" not in updated


def test_stale_resource_version_conflicts(objects, namespace):
    stale = create(objects, namespace, widget("stale"))
    patch(objects, namespace, "stale", {"spec": {"size": "medium"}})
    stale["spec"]["size"] = "large"
    status, body = rejection(
        lambda: objects.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "stale", stale
        )
    )
    assert status == 409
    assert body["reason"] == "Conflict"
    assert get(objects, namespace, "stale")["spec"]["size"] == "medium"


# 3. Finalizers ---------------------------------------------------------------


def test_finalizer_holds_deletion_until_removed(objects, namespace, wait_until):
    create(
        objects,
        namespace,
        {**widget("held"), "metadata": {"name": "held", "finalizers": [FINALIZER]}},
    )
    objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "held")

    held = get(objects, namespace, "held")
    assert held["metadata"].get("deletionTimestamp")
    assert held["metadata"]["finalizers"] == [FINALIZER]

    patch(objects, namespace, "held", {"metadata": {"finalizers": None}})
    wait_until(
        lambda: get_or_none(objects, namespace, "held") is None, 30, "widget held to be deleted"
    )


# 4. Watch --------------------------------------------------------------------


def test_watch_streams_added_modified_deleted(objects, namespace):
    listed = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    start_version = listed["metadata"]["resourceVersion"]

    create(objects, namespace, widget("watched"))
    patch(objects, namespace, "watched", {"spec": {"size": "large"}})
    objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "watched")

    # The watch starts from the list's resourceVersion, so the server replays the
    # three changes above in order.
    events = []
    stream = watch.Watch()
    for event in stream.stream(
        objects.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        resource_version=start_version,
        field_selector="metadata.name=watched",
        timeout_seconds=30,
    ):
        events.append((event["type"], event["object"]["spec"]["size"]))
        if event["type"] == "DELETED":
            stream.stop()
    assert [kind for kind, _ in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[0][1] == "small"
    assert events[1][1] == "large"


# 5. Controllers: garbage collection and namespace deletion -------------------


def _read_secret(core, namespace: str, name: str):
    try:
        return core.read_namespaced_secret(name, namespace)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def _owned_secret(name: str, owner: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "ownerReferences": [
                {
                    "apiVersion": owner["apiVersion"],
                    "kind": owner["kind"],
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                }
            ],
        },
        "stringData": {"token": "not-a-secret"},
    }


def test_owned_secret_garbage_collected(api, objects, namespace, wait_until):
    core = client.CoreV1Api(api)
    doomed = create(objects, namespace, widget("owner-deleted"))
    kept = create(objects, namespace, widget("owner-kept"))
    core.create_namespaced_secret(namespace, _owned_secret("doomed-secret", doomed))
    core.create_namespaced_secret(namespace, _owned_secret("kept-secret", kept))

    objects.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "owner-deleted")
    wait_until(
        lambda: _read_secret(core, namespace, "doomed-secret") is None,
        CONTROLLER_TIMEOUT,
        "the garbage collector to delete doomed-secret",
    )

    assert _read_secret(core, namespace, "kept-secret") is not None


def test_namespace_deletion_marks_custom_objects(api, objects, wait_until):
    core = client.CoreV1Api(api)
    name = f"harness-doomed-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    create(
        objects, name, {**widget("held"), "metadata": {"name": "held", "finalizers": [FINALIZER]}}
    )
    create(objects, name, widget("free"))

    def held_if_marked():
        held = get_or_none(objects, name, "held")
        return held if held and held["metadata"].get("deletionTimestamp") else None

    def namespace_gone() -> bool:
        try:
            core.read_namespace(name)
        except client.ApiException as error:
            if error.status == 404:
                return True
            raise
        return False

    core.delete_namespace(name)
    try:
        held = wait_until(
            held_if_marked, CONTROLLER_TIMEOUT, "the namespace controller to delete widget held"
        )
        assert held["metadata"]["finalizers"] == [FINALIZER]
        wait_until(
            lambda: get_or_none(objects, name, "free") is None,
            CONTROLLER_TIMEOUT,
            "the namespace controller to delete widget free",
        )
        assert core.read_namespace(name).status.phase == "Terminating"
    finally:
        # Release the finalizer so that the namespace can go.
        if get_or_none(objects, name, "held") is not None:
            patch(objects, name, "held", {"metadata": {"finalizers": None}})

    wait_until(namespace_gone, CONTROLLER_TIMEOUT, f"namespace {name} to be deleted")
