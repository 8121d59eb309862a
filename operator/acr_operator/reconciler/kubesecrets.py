"""Kubernetes Secrets the operator reads and writes: manifests, patches, ownership.

Credentials leave ARM only into Secrets that the operator owns through a
controller ownerReference, so garbage collection deletes them with their
custom resource, and so the operator never overwrites a Secret that someone
else made. Everything here is pure (dicts in, dicts out), so unit tests
cover every case; `handlers.KubeEffects` sends what it builds.

Secret inputs are read the other way, through the resolver:
`read_secret_key` returns the value of one `{name, key}` secretKeyRef.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from acr_operator import API_GROUP, API_VERSION
from acr_operator.reconciler.context import OwnedSecret, SecretConflict
from acr_operator.reconciler.placement import Resolver, Waiting

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "acr-operator"
OPAQUE = "Opaque"
DOCKERCONFIG_TYPE = "kubernetes.io/dockerconfigjson"
DOCKERCONFIG_KEY = ".dockerconfigjson"
# Annotations under this prefix belong to the operator: a patch removes the ones it no longer sets.
OWN_PREFIX = "acr-operator.dev/"


def owner_reference(obj: Mapping) -> dict:
    """Return the controller ownerReference that ties a Secret to the custom resource `obj`.

    blockOwnerDeletion stays false: setting it true needs delete rights on the owner
    (the OwnerReferencesPermissionEnforcement admission plugin), which the operator lacks.
    """
    meta = obj["metadata"]
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": False,
    }


def is_owned(secret: Mapping, uid: str) -> bool:
    """Tell whether `secret` (an API object as a dict) has a controller reference to `uid`."""
    references = (secret.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("uid") == uid and ref.get("controller") for ref in references)


def decoded(secret: Mapping) -> dict[str, str]:
    """Return the entries of `secret` as text (the API sends `data` in base64)."""
    data = {key: base64.b64decode(value).decode("utf-8")
            for key, value in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def owned(secret: Mapping, obj: Mapping) -> OwnedSecret:
    """Return `secret` as an OwnedSecret; raise SecretConflict unless `obj` owns it."""
    require_owner(secret, obj)
    meta = secret.get("metadata") or {}
    return OwnedSecret(
        data=decoded(secret),
        annotations=dict(meta.get("annotations") or {}),
        type=secret.get("type") or OPAQUE,
    )


def require_owner(secret: Mapping, obj: Mapping) -> None:
    """Raise SecretConflict (SecretNotOwned) unless `obj` is the controller of `secret`."""
    if is_owned(secret, obj["metadata"]["uid"]):
        return
    meta = secret.get("metadata") or {}
    raise SecretConflict("SecretNotOwned", (
        f"Secret {meta.get('name')} in namespace {meta.get('namespace')} exists and is not "
        f"owned by {obj['kind']} {obj['metadata']['name']}, so the operator does not "
        "overwrite it"
    ))


def manifest(
        name: str,
        namespace: str,
        *,
        owner: Mapping,
        string_data: Mapping[str, str],
        type: str = OPAQUE,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
) -> dict:
    """Build a new Secret owned by the custom resource `owner`, with `data` in base64."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**(labels or {}), MANAGED_BY_LABEL: MANAGED_BY},
            "annotations": dict(annotations or {}),
            "ownerReferences": [owner_reference(owner)],
        },
        "type": type,
        "data": _encoded(string_data),
    }


def patch(
        secret: Mapping,
        *,
        string_data: Mapping[str, str],
        type: str = OPAQUE,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
) -> dict:
    """Build the JSON merge patch that gives an owned `secret` exactly these entries.

    Entries and operator annotations that are no longer wanted are set to
    null; labels that others added stay. Returns {} when nothing differs.
    Raises SecretConflict (SecretTypeMismatch) when the type differs,
    because the API server never changes the type of a Secret.
    """
    meta = secret.get("metadata") or {}
    if (secret.get("type") or OPAQUE) != type:
        raise SecretConflict("SecretTypeMismatch", (
            f"Secret {meta.get('name')} has type {secret.get('type')}, not {type}, and the "
            "type of a Secret cannot change"
        ))
    result: dict = {}
    data = _changes(secret.get("data") or {}, _encoded(string_data), remove=lambda _: True)
    if data:
        result["data"] = data
    metadata: dict = {}
    wanted_labels = {**(labels or {}), MANAGED_BY_LABEL: MANAGED_BY}
    label_changes = _changes(meta.get("labels") or {}, wanted_labels, remove=lambda _: False)
    if label_changes:
        metadata["labels"] = label_changes
    annotation_changes = _changes(
        meta.get("annotations") or {}, dict(annotations or {}),
        remove=lambda key: key.startswith(OWN_PREFIX),
    )
    if annotation_changes:
        metadata["annotations"] = annotation_changes
    if metadata:
        result["metadata"] = metadata
    return result


def dockerconfigjson(server: str, username: str, password: str) -> str:
    """Return a .dockerconfigjson document that logs in to `server`, as kubelet reads it."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    entry = {"username": username, "password": password, "auth": auth}
    return json.dumps({"auths": {server: entry}}, sort_keys=True)


async def read_secret_key(
        resolver: Resolver,
        namespace: str,
        ref: Mapping,
        *,
        field: str,
) -> str:
    """Return the value of the Secret entry that the secretKeyRef `ref` ({name, key}) names.

    `field` is the spec path of `ref`, for messages. While the Secret or its
    entry is missing, raises Waiting with reason WaitingForSecret and `on`
    set to the Secret, so the caller waits and a change to the Secret wakes
    it. Raises a stalled Waiting (InvalidSecretRef) when `ref` lacks a name
    or a key.
    """
    name, key = ref.get("name"), ref.get("key")
    if not name or not key:
        raise Waiting("InvalidSecretRef", f"{field} needs a name and a key.", stalled=True)
    data = await resolver.get_secret(namespace, name)
    if data is None:
        raise Waiting(
            "WaitingForSecret",
            f"Secret {name} named by {field} does not exist in namespace {namespace}; "
            "create it.",
            on=("Secret", name),
        )
    if key not in data:
        raise Waiting(
            "WaitingForSecret",
            f"Secret {name} has no entry {key!r} (named by {field}); add it.",
            on=("Secret", name),
        )
    return data[key]


def _encoded(string_data: Mapping[str, str]) -> dict[str, str]:
    return {key: base64.b64encode(value.encode()).decode() for key, value in string_data.items()}


def _changes(current: Mapping[str, str], wanted: Mapping[str, str], *, remove) -> dict:
    """Return the merge-patch entries that turn `current` into `wanted`.

    Keys of `current` missing from `wanted` are set to null only where `remove(key)` is true.
    """
    changes: dict = {key: value for key, value in wanted.items() if current.get(key) != value}
    changes.update({key: None for key in current if key not in wanted and remove(key)})
    return changes
