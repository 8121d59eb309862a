"""Drift detection: does Azure match the spec, on the fields the user set?

ARM answers a GET with much more than was sent: server defaults for every
policy block, read-only fields, enums in another case, ids in another case.
Comparing whole bodies would see drift on every resync and write forever.
So the comparison walks the *desired* body only: a field the user did not
set is never drift. Within that:

- dicts compare key by key (ARM ids as keys case-insensitively);
- `tags` compare whole, because the user owns the whole tag set;
- arrays of scalars compare as sets; arrays of objects pair their items by
  identifying keys (kinds.json `arrayKeys`, else `name`, `id`, `value`,
  `location`), and must have the same length;
- enum values, ARM ids and locations compare case-insensitively.

The result is a list of differing paths, and from it the body to send: the
PATCH model's changed fields where the kind has a PATCH, the whole PUT body
where it has not.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from acr_operator.reconciler import bodies
from acr_operator.reconciler.descriptors import KindDescriptor

# Fallback identifying keys for arrays of objects that kinds.json gives none for.
_DEFAULT_KEYS = ("name", "id", "value", "location")
_WHOLE = {"tags"}


def differences(
        descriptor: KindDescriptor,
        desired: Mapping[str, Any],
        actual: Mapping[str, Any] | None,
) -> list[str]:
    """Dotted paths where `actual` does not match `desired` on user-set fields.

    Create-only fields are skipped (the service cannot change them, and the
    CRD keeps them immutable, so a mismatch is ARM's normalisation), and so
    are write-only fields (GET never returns them; see bodies.write_only_hash).
    """
    skipped = set(descriptor.create_only) | set(descriptor.write_only)
    found: list[str] = []
    _compare(descriptor, desired, actual or {}, "", skipped, found)
    return found


def patch_body(
        descriptor: KindDescriptor,
        desired: Mapping[str, Any],
        paths: Sequence[str],
) -> dict:
    """The body to send for the differing `paths`.

    Kinds with a PATCH get only the changed fields of the PATCH model, each
    at the granularity of that model (a whole `properties.networkRuleSet`,
    a whole `sku`), remapped where the PATCH model names a field
    differently. Kinds without a PATCH get the whole desired body for a PUT.
    """
    if not descriptor.has_update:
        return copy.deepcopy(dict(desired))
    patch: dict = {}
    for path in paths:
        source, target = _patch_field(descriptor, path)
        if target is None:
            continue
        value = bodies.get_path(desired, source)
        if value is not None:
            bodies.set_path(patch, target, copy.deepcopy(value))
    return patch


def _patch_field(descriptor: KindDescriptor, path: str) -> tuple[str, str | None]:
    # The longest remapped prefix wins: properties.parent.syncProperties.schedule
    # is sent as properties.syncProperties for a connected registry.
    for source in sorted(descriptor.update_path_map, key=len, reverse=True):
        if path == source or path.startswith(source + "."):
            return source, descriptor.update_path_map[source]
    parts = path.split(".")
    field = ".".join(parts[:2]) if parts[0] == "properties" and len(parts) > 1 else parts[0]
    return field, (field if field in descriptor.update_fields else None)


def _compare(
        descriptor: KindDescriptor,
        desired: Any,
        actual: Any,
        path: str,
        skipped: set[str],
        found: list[str],
) -> None:
    if path in skipped:
        return
    if path in _WHOLE:
        if (desired or {}) != (actual or {}):
            found.append(path)
        return
    if isinstance(desired, Mapping):
        if not isinstance(actual, Mapping):
            if desired or actual is not None:  # an empty dict sets nothing
                found.append(path or ".")
            return
        for key, value in desired.items():
            child = f"{path}.{key}" if path else key
            _compare(descriptor, value, _lookup(actual, key), child, skipped, found)
        return
    if isinstance(desired, list):
        if not _lists_match(descriptor, desired, actual, path, skipped):
            found.append(path)
        return
    if desired is None:
        return  # null in a spec means "not set"
    if not _scalars_match(descriptor, desired, actual, path):
        found.append(path)


def _lookup(actual: Mapping[str, Any], key: str) -> Any:
    if key in actual:
        return actual[key]
    if key.startswith("/"):  # ARM ids as map keys (userAssignedIdentities)
        folded = key.lower()
        for other, value in actual.items():
            if isinstance(other, str) and other.lower() == folded:
                return value
    return None


def _lists_match(
        descriptor: KindDescriptor,
        desired: list,
        actual: Any,
        path: str,
        skipped: set[str],
) -> bool:
    if not desired and not actual:
        return True  # [] and an absent list say the same
    if not isinstance(actual, list) or len(actual) != len(desired):
        return False
    if not all(isinstance(item, Mapping) for item in desired):
        wanted = {_fold(descriptor, item, path) for item in desired}
        return wanted == {_fold(descriptor, item, path) for item in actual}
    keys = descriptor.array_keys.get(path) or _guess_keys(desired)
    remaining = list(actual)
    for item in desired:
        match = _find_item(descriptor, item, remaining, keys, path, skipped)
        if match is None:
            return False
        remaining.remove(match)
    return True


def _guess_keys(items: list) -> tuple[str, ...]:
    for key in _DEFAULT_KEYS:
        if all(key in item for item in items):
            return (key,)
    return ()


def _find_item(
        descriptor: KindDescriptor,
        item: Mapping[str, Any],
        candidates: list,
        keys: tuple[str, ...],
        path: str,
        skipped: set[str],
) -> Any:
    # With keys, the item pairs with the candidate of the same keys and must
    # match it; without, with any candidate that matches on the set fields.
    for candidate in candidates:
        if not isinstance(candidate, Mapping):
            continue
        if keys and not all(
            _scalars_match(descriptor, item.get(k), candidate.get(k), f"{path}.{k}") for k in keys
        ):
            continue
        mismatches: list[str] = []
        _compare(descriptor, item, candidate, path, skipped, mismatches)
        if not mismatches:
            return candidate
        if keys:
            return None
    return None


def _scalars_match(descriptor: KindDescriptor, desired: Any, actual: Any, path: str) -> bool:
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired is actual
    if isinstance(desired, (int, float)) and isinstance(actual, (int, float)):
        return desired == actual
    return _fold(descriptor, desired, path) == _fold(descriptor, actual, path)


def _fold(descriptor: KindDescriptor, value: Any, path: str) -> Any:
    if not isinstance(value, str):
        return value
    leaf = path.rsplit(".", 1)[-1]
    if path in descriptor.enum_paths or leaf == "location":
        return "".join(value.split()).lower()  # "West US 2" == "westus2", "Enabled" == "enabled"
    if value.startswith("/subscriptions/"):
        return value.rstrip("/").lower()
    return value
