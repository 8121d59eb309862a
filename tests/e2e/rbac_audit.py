"""Compare the RBAC that the chart grants with the API access found in the audit log.

An access is (apiGroup, resource, subresource, verb), the attributes that
the API server's authorizer checks for a request. "" is the core group and
"no subresource". A watch request has verb `watch`, a collection GET verb
`list`. This module imports nothing from the rest of the test tree, so it
can be used outside pytest on a kept audit log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

RBAC_KINDS = ("ClusterRole", "Role")


class Access(NamedTuple):
    """One kind of request: API group, resource, subresource and verb."""

    group: str
    resource: str
    subresource: str
    verb: str

    def __str__(self) -> str:
        group = self.group or "core"
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {resource} ({group})"


def service_account_user(namespace: str, name: str) -> str:
    """Return the user name that the API server gives a ServiceAccount's tokens."""
    return f"system:serviceaccount:{namespace}:{name}"


def read_events(audit_log: str | Path) -> Iterator[dict]:
    """Yield the events of an audit log in JSON lines format."""
    with open(audit_log) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{audit_log}:{number}: invalid JSON in the audit log: {error}") from None


def used_access(events: Iterable[dict], username: str) -> set[Access]:
    """Return the accesses of the resource requests that `username` sent, allowed or not.

    Requests without objectRef (discovery such as /api and /apis, /version)
    are left out, because they are non-resource URLs that every
    authenticated user may read.
    """
    used = set()
    for event in events:
        if (event.get("user") or {}).get("username") != username:
            continue
        ref = event.get("objectRef")
        if not ref or not ref.get("resource"):
            continue
        used.add(Access(ref.get("apiGroup", ""), ref["resource"], ref.get("subresource", ""),
                        event["verb"]))
    return used


def rbac_denials(events: Iterable[dict], username: str) -> list[str]:
    """Return the requests of `username` that the authorizer denied, one line each.

    The API server marks each audit event with the authorizer's decision.
    A 403 from admission, such as a write into a namespace that is being
    deleted, carries decision allow and is not listed.
    """
    denied = []
    for event in events:
        if (event.get("user") or {}).get("username") != username:
            continue
        if (event.get("annotations") or {}).get("authorization.k8s.io/decision") != "forbid":
            continue
        ref = event.get("objectRef") or {}
        resource = "/".join(part for part in (ref.get("resource"), ref.get("subresource")) if part)
        denied.append(f"{event.get('verb')} {resource or event.get('requestURI')} "
                      f"({ref.get('apiGroup', '')}) in namespace {ref.get('namespace', '-')}")
    return denied


def granted_access(objects: Iterable[dict]) -> set[Access]:
    """Return every access that the rules of the ClusterRoles and Roles among `objects` grant.

    A rule's resourceNames are ignored: a rule for some names still grants
    the verb. Wildcards and nonResourceURLs raise ValueError, because they
    cannot be compared with single requests.
    """
    granted = set()
    for obj in objects:
        if obj.get("kind") not in RBAC_KINDS:
            continue
        for rule in obj.get("rules") or []:
            where = f"{obj['kind']} {obj['metadata']['name']} rule {rule}"
            if rule.get("nonResourceURLs"):
                raise ValueError(f"{where}: nonResourceURLs are not supported here")
            fields = (rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("verbs") or [])
            if any("*" in value for field in fields for value in field):
                raise ValueError(f"{where}: wildcards are not supported here")
            groups, resources, verbs = fields
            for group in groups:
                for name in resources:
                    resource, _, subresource = name.partition("/")
                    for verb in verbs:
                        granted.add(Access(group, resource, subresource, verb))
    return granted


def unused_grants(granted: Iterable[Access], used: Iterable[Access]) -> list[Access]:
    """Return the granted accesses that no request used, sorted."""
    return sorted(set(granted) - set(used))
