"""Which extra steps (see `extras`) run for which kind, after the resource is Ready.

Each entry names a hook and gives the reason that kind needs it.
"""

from __future__ import annotations

from acr_operator.reconciler.extras import Hook

AFTER_READY: dict[str, tuple[Hook, ...]] = {}

# Status keys that hooks own. The engine keeps them when it replaces the
# fields of the last GET, so a hook with nothing due leaves its keys as they are.
STATUS_KEYS: dict[str, tuple[str, ...]] = {}


def after_ready(kind: str) -> tuple[Hook, ...]:
    """Return the hooks of `kind` in the order they run, or () for a kind with none."""
    return AFTER_READY.get(kind, ())


def status_keys(kind: str) -> tuple[str, ...]:
    """The status keys the hooks of `kind` write and the engine must keep."""
    return STATUS_KEYS.get(kind, ())
