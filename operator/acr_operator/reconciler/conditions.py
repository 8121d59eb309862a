"""The Ready, Reconciling and Stalled conditions, written the kstatus way.

Flux, Argo CD and `kubectl wait` judge an object by these three: Ready
says whether Azure matches the spec; Reconciling is True while the
operator is still working towards it (a create in flight, a retry
pending); Stalled is True when it cannot get there without a person (ARM
refused the request, the name is taken, access is missing). All three share
one reason and message per reconcile, so the printer column and every
condition tell the same story.

`lastTransitionTime` moves only when a condition's status flips, so a
resync that finds nothing new writes nothing new.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from acr_operator.reconciler import backoff

if TYPE_CHECKING:
    from acr_operator.reconciler.placement import Waiting

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
TYPES = (READY, RECONCILING, STALLED)

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What one reconcile concluded about an object.

    `ready` is True, False or Unknown; `reason` is PascalCase (ARM's error
    code when ARM refused); `message` says what happens next or what to do,
    and is never empty.
    """

    ready: str
    reason: str
    message: str
    reconciling: bool = False
    stalled: bool = False

    def __post_init__(self) -> None:
        if self.ready not in (TRUE, FALSE, UNKNOWN):
            raise ValueError(f"ready must be True, False or Unknown, not {self.ready!r}")
        if not self.reason or not self.message:
            raise ValueError("a verdict needs a reason and a message")


def ready(reason: str, message: str) -> Verdict:
    return Verdict(TRUE, reason, message)


def progressing(reason: str, message: str) -> Verdict:
    """Not ready yet, and the operator is on it: Reconciling=True."""
    return Verdict(FALSE, reason, message, reconciling=True)


def stalled(reason: str, message: str) -> Verdict:
    """Not ready, and a person must act: Stalled=True."""
    return Verdict(FALSE, reason, message, stalled=True)


def apply_verdict(
        conditions: Sequence[dict] | None,
        verdict: Verdict,
        *,
        generation: int | None,
        now: datetime.datetime,
) -> list[dict]:
    """The three conditions for `verdict`, keeping transition times that did not flip.

    Conditions of other types (written by someone else) are kept as they are.
    """
    statuses = {
        READY: verdict.ready,
        RECONCILING: TRUE if verdict.reconciling else FALSE,
        STALLED: TRUE if verdict.stalled else FALSE,
    }
    previous = {c.get("type"): c for c in conditions or () if isinstance(c, dict)}
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = []
    for kind in TYPES:
        old = previous.get(kind) or {}
        status = statuses[kind]
        condition = {
            "type": kind,
            "status": status,
            "reason": verdict.reason,
            "message": verdict.message,
            "lastTransitionTime": (
                old["lastTransitionTime"]
                if old.get("status") == status and old.get("lastTransitionTime")
                else stamp
            ),
        }
        if generation is not None:
            condition["observedGeneration"] = generation
        result.append(condition)
    result.extend(c for t, c in previous.items() if t not in TYPES)
    return result


def find(conditions: Iterable[dict] | None, kind: str) -> dict | None:
    """The condition of type `kind`, or None."""
    for condition in conditions or ():
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def is_true(conditions: Iterable[dict] | None, kind: str) -> bool:
    condition = find(conditions, kind)
    return condition is not None and condition.get("status") == TRUE


def waiting_verdict(
        waiting: Waiting,
        memory: dict,
        *,
        resync: float,
        rand: Callable[[], float],
) -> tuple[Verdict, float]:
    """Return the verdict and the delay for an object that waits for something in Kubernetes.

    A stalled wait (only the user can fix it) comes back at the resync; any
    other backs off, with the attempts counted in `memory["waits"]`.
    """
    if waiting.stalled:
        return stalled(waiting.reason, waiting.message), resync
    attempt = memory.get("waits", 0)
    memory["waits"] = attempt + 1
    return progressing(waiting.reason, waiting.message), backoff.wait_delay(attempt, rand=rand)
