"""What the engine needs from its caller, as small interfaces over plain data.

The engine works on the object as a plain dict and reaches the outside
world only through a `Context`: an ARM requester, a resolver for other
Kubernetes objects, and the effects (write status, post an Event, write the
Secrets the object owns). The kopf handlers provide real ones; unit tests
provide fakes, so every path of the engine runs without a cluster and
without a network.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from acr_operator.arm.client import ArmResponse
from acr_operator.config import Settings
from acr_operator.reconciler.conditions import Verdict
from acr_operator.reconciler.placement import Resolver


class ArmRequester(Protocol):
    """The one method of `ArmClient` the engine uses."""

    async def request(
            self,
            method: str,
            path_or_url: str,
            *,
            body: Any = None,
            params: Mapping[str, str] | None = None,
    ) -> ArmResponse: ...


class ObjectGone(Exception):
    """The custom resource is deleted or being deleted, so nothing may be created for it."""


class FinalizerMissing(Exception):
    """The finalizer is not stored on the object yet, so a create could not be undone."""


class Effects(Protocol):
    """Writes to Kubernetes on behalf of the engine."""

    async def ensure_writable(self) -> None:
        """Confirm with the API server that Azure may be written for this object.

        Raises ObjectGone when the object is gone or has a deletionTimestamp,
        and FinalizerMissing when the finalizer is not stored on it yet.
        The engine calls it right before it creates a resource, because the
        worker's copy of the object may be older than a delete.
        """

    async def patch_status(self, status: dict) -> None:
        """Make the object's status equal `status`, the complete status the engine wants.

        Idempotent: the implementation sends only what differs from the
        last known status (keys absent from `status` are removed) and
        nothing at all when nothing does.
        """

    def post_event(self, type: str, reason: str, message: str) -> None:
        """Post a Kubernetes Event (type Normal or Warning) about the object; never blocks."""

    async def read_owned_secret(self, name: str) -> OwnedSecret | None:
        """Read the Secret `name` of the object's namespace, which this object must own.

        Returns None when the Secret does not exist. Raises SecretConflict
        when it exists but has no controller ownerReference to this object.
        """

    async def apply_secret(
            self,
            name: str,
            *,
            string_data: Mapping[str, str],
            type: str = "Opaque",
            labels: Mapping[str, str] | None = None,
            annotations: Mapping[str, str] | None = None,
    ) -> bool:
        """Make the Secret `name` hold exactly `string_data`, owned by this object.

        Creates the Secret, or patches it when this object owns it: keys
        absent from `string_data` are removed. The Secret gets a controller
        ownerReference to the object, so garbage collection deletes it with
        the object, and the label app.kubernetes.io/managed-by: acr-operator.
        Returns True when it wrote, False when the Secret already matched.
        Raises SecretConflict for a Secret owned by someone else, or one
        of another type. Values are never logged.
        """


@dataclasses.dataclass(frozen=True)
class OwnedSecret:
    """A Secret that the object owns, with its values decoded."""

    data: Mapping[str, str]
    annotations: Mapping[str, str]
    type: str


class SecretConflict(Exception):
    """A Secret the operator must write belongs to someone else, or has another type.

    `reason` is a PascalCase condition reason (SecretNotOwned, SecretTypeMismatch)
    and `message` names the Secret; neither contains a value.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class Context:
    """Everything one reconcile of one object may use besides the object itself.

    `memory` is per-object and in-process only (the retry counter); what
    must survive a restart is written to status.
    """

    client: ArmRequester
    settings: Settings
    resolver: Resolver
    effects: Effects
    logger: logging.Logger | logging.LoggerAdapter
    memory: dict = dataclasses.field(default_factory=dict)
    now: Callable[[], datetime.datetime] = utcnow
    rand: Callable[[], float] = random.random


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a reconcile or deletion step ended.

    `delay`: seconds until the object should be reconciled again (the next
    poll, the retry, or the resync). `done`: for deletion, the Azure
    resource is gone (or left alone on purpose) and the finalizer may go.
    `waiting_on`: (kind, name) of an object in the same namespace whose
    change should wake this one early. `verdict`: the conditions written,
    or None when nothing was due and nothing was written.
    """

    delay: float
    done: bool = False
    waiting_on: tuple[str, str] | None = None
    verdict: Verdict | None = None
