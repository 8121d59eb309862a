"""ARM bodies built from a spec, and status fields built from an ARM body.

The spec of every kind is the ARM request body plus placement fields, so
the desired body is mostly the spec itself: placement fields are dropped,
`...Ref` fields are replaced by the ARM ids they resolve to, and
`...SecretRef` fields by the secret values. Going the other way, the body of
an ARM GET becomes `status`, with write-only and secret-looking fields
removed first, because status is readable by anyone who can read the object.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from acr_operator.reconciler.descriptors import KindDescriptor

# Top-level keys of an ARM body that are not copied into status: `id` has its own
# status field, `name` and `type` repeat what the object already says, `tags` are spec.
_NOT_STATUS = {"id", "name", "type", "tags"}

# Keys whose values must never reach status, whatever the kind: passwords that
# token creates return, keys and connection strings that some results carry.
_SECRET_KEY = re.compile(r"(?i)^(password\d*|passwords|value|secret\w*|.*key|connectionstring)$")
_SECRET_CONTAINERS = {"passwords", "credentials", "keys"}


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of nested dicts, or None when any step is missing."""
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def set_path(data: dict, path: str, value: Any) -> None:
    """Set a dotted path, creating intermediate dicts."""
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def delete_path(data: dict, path: str) -> None:
    """Remove a dotted path if present, and any dicts left empty above it."""
    *parents, last = path.split(".")
    chain = [data]
    for part in parents:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            return
        chain.append(child)
    chain[-1].pop(last, None)
    for parent, part in zip(reversed(chain[:-1]), reversed(parents)):
        if parent.get(part) == {}:
            del parent[part]


def desired_body(
        descriptor: KindDescriptor,
        spec: Mapping[str, Any],
        *,
        references: Mapping[str, Any],
        secrets: Mapping[str, Any],
) -> dict:
    """The ARM PUT body for `spec`: placement removed, references and secrets filled in.

    Operator fields (credential outputs) are removed too. `references` and `secrets` map body paths to resolved values (see
    `placement`). The result is a new dict; `spec` is not changed.
    """
    body = copy.deepcopy(dict(spec))
    for field in (*descriptor.placement_fields(), *descriptor.operator_fields):
        body.pop(field, None)
    for reference in descriptor.references:
        delete_path(body, reference.ref_path)
    for secret_input in descriptor.secret_inputs:
        delete_path(body, secret_input.ref_path)
    for path, value in references.items():
        set_path(body, path, copy.deepcopy(value))
    for path, value in secrets.items():
        set_path(body, path, copy.deepcopy(value))
    return body


def observed_status(descriptor: KindDescriptor, arm_body: Mapping[str, Any] | None) -> dict:
    """The status fields taken from an ARM GET body, under ARM's own names.

    Write-only fields and anything that looks like a secret are dropped.
    Includes `provisioningState` lifted from `properties`.
    """
    if not isinstance(arm_body, Mapping):
        return {}
    observed = {k: copy.deepcopy(v) for k, v in arm_body.items() if k not in _NOT_STATUS}
    for path in descriptor.write_only:
        delete_path(observed, path)
    for secret_input in descriptor.secret_inputs:
        delete_path(observed, secret_input.path)
    observed = scrub(observed)
    state = get_path(arm_body, "properties.provisioningState")
    if isinstance(state, str):
        observed["provisioningState"] = state
    return observed


def scrub(data: Any, *, inside_secret: bool = False) -> Any:
    """A copy of `data` without secret-looking entries.

    Inside `passwords`, `credentials` and `keys` containers every `value`
    or password-like key is removed; elsewhere only password, secret and
    connection-string keys are (a plain `value` such as an IP rule's stays).
    """
    if isinstance(data, dict):
        clean = {}
        for key, value in data.items():
            secret_like = _SECRET_KEY.match(key) and isinstance(value, str)
            if secret_like and (inside_secret or key.lower() != "value"):
                continue
            nested = inside_secret or key.lower() in _SECRET_CONTAINERS
            clean[key] = scrub(value, inside_secret=nested)
        return clean
    if isinstance(data, list):
        return [scrub(item, inside_secret=inside_secret) for item in data]
    return data


def write_only_hash(descriptor: KindDescriptor, body: Mapping[str, Any], *, salt: str) -> str | None:
    """A salted hash of the write-only values in `body`, or None when it has none.

    GET never returns write-only fields (a webhook's serviceUri), so a change
    to them is detected by comparing this hash with the one saved in status
    after the last write. Salted with the object's uid, so equal values of
    two objects do not hash alike.
    """
    values = {path: get_path(body, path) for path in descriptor.write_only}
    values = {path: value for path, value in values.items() if value is not None}
    if not values:
        return None
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{salt}:{canonical}".encode()).hexdigest()[:32]


def secret_strings(values: Iterable[Any]) -> list[str]:
    """Every string inside resolved secret values, longest first, for redaction."""
    found: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for value in values:
        collect(value)
    return sorted(set(found), key=len, reverse=True)
