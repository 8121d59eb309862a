"""Which extra steps (see `extras`) run for which kind, after the resource is Ready.

Each entry names a hook and gives the reason that kind needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from acr_operator.reconciler import actions, admincredentials, tokenpasswords
from acr_operator.reconciler.extras import Hook

AFTER_READY: dict[str, tuple[Hook, ...]] = {
    # ARM returns a token password only once, from GenerateCredentials: keep it in a Secret.
    "Token": (tokenpasswords.export_passwords,),
    # The admin login is read with ListCredentials and exported to a Secret on request.
    # Usage figures and private link resources change without a write, so each resync
    # reads them again (two GETs).
    "Registry": (admincredentials.export_admin_credentials, actions.list_usages,
                 actions.list_private_link_resources),
    # A new value of spec.ping sends Webhooks_Ping. The events of pings and pushes are
    # visible only through ListEvents.
    "Webhook": (actions.ping_on_request, actions.summarise_events),
    # spec.deactivate sends Deactivate while Azure reports the connected registry active.
    "ConnectedRegistry": (actions.deactivate_on_request,),
}

# Status keys that hooks own. The engine keeps them when it replaces the
# fields of the last GET, so a hook with nothing due leaves its keys as they are.
STATUS_KEYS: dict[str, tuple[str, ...]] = {
    "Token": (tokenpasswords.STATUS_KEY,),
    "Registry": (admincredentials.STATUS_KEY, actions.USAGES, actions.PRIVATE_LINK_RESOURCES),
    "Webhook": (actions.LAST_PING, actions.RECENT_EVENTS),
    "ConnectedRegistry": (actions.DEACTIVATION,),
}

# Secrets that the hooks of a kind read or write, named from the spec. A change to one of
# them wakes the object (see `secretwatch`), so a deleted output Secret is written again.
SECRETS: dict[str, Callable[[Mapping], tuple[str, ...]]] = {
    "Token": tokenpasswords.secret_names,
    "Registry": admincredentials.secret_names,
}


def after_ready(kind: str) -> tuple[Hook, ...]:
    """Return the hooks of `kind` in the order they run, or () for a kind with none."""
    return AFTER_READY.get(kind, ())


def status_keys(kind: str) -> tuple[str, ...]:
    """The status keys the hooks of `kind` write and the engine must keep."""
    return STATUS_KEYS.get(kind, ())


def secrets_of(kind: str, spec: Mapping) -> tuple[str, ...]:
    """Return the Secrets that the hooks of `kind` read or write for this spec."""
    names = SECRETS.get(kind)
    return names(spec) if names is not None else ()
