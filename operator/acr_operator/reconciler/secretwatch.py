"""Which Secrets each object depends on, so that a change to one of them wakes the object.

A webhook's serviceUri comes from a Secret, and a token's passwords go to
one. Only a watch learns that a Secret changed, so the handlers watch
Secrets and wake every object whose spec names the changed one. The resync
remains the fallback. The names come from the
spec alone (secretKeyRef inputs of the descriptor, outputs of the hooks),
never from Secret contents.
"""

from __future__ import annotations

from collections.abc import Mapping

from acr_operator.reconciler import bodies, hooks
from acr_operator.reconciler.descriptors import descriptor_for


def secret_names(obj: Mapping) -> frozenset[str]:
    """Return the names of the Secrets in its namespace that `obj` reads or writes."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    try:
        descriptor = descriptor_for(kind)
    except KeyError:
        return frozenset()
    names = set(hooks.secrets_of(kind, spec))
    for secret_input in descriptor.secret_inputs:
        ref = bodies.get_path(spec, secret_input.ref_path)
        if isinstance(ref, dict) and ref.get("name"):
            names.add(ref["name"])
    return frozenset(names)
