"""Long-running operations: which style a write takes, their progress and their polls.

ARM reports a write that has not finished in one of two ways, and both occur
in recorded ACR traffic:

- `Azure-AsyncOperation`: 201 (or 200) with the resource in Creating or
  Updating; its URL (`<resource id>/operationStatuses/<name>`) returns 200
  with `{"status": "Creating"}` until `{"status": "Succeeded"}` or
  `{"status": "Failed", "error": {...}}`;
- `Location`: 202; its URL (`/subscriptions/<s>/providers/Microsoft.ContainerRegistry/
  locations/<region>/operationResults/<name>`) returns 202 until the final
  response: 200 with the action's result, or an empty 200.

An operation finishes when the clock passes its due time. `settle` applies
the effects of every finished operation; the gateway calls it before each
request, so a GET after the due time already sees the final state even if
nobody polled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from acr_operator import ARM_API_VERSION, ARM_PROVIDER
from acr_operator.emulator import ids
from acr_operator.emulator.clock import Clock
from acr_operator.emulator.replies import Reply

SYNC = "sync"
ASYNC_OPERATION = "azure-async-operation"
LOCATION = "location"

# The state an operation and its resource show while it runs, by kind.
RUNNING_STATES = {"create": "Creating", "update": "Updating", "delete": "Deleting"}

_DEFAULT_ERROR = {
    "code": "InternalServerError",
    "message": "The operation failed because a fault injected into the emulator said so.",
}


def choose_style(mode: str, kind: str, arm_type: str, long_running: bool) -> str:
    """Pick how a write of `kind` (create, replace, update, delete, action) responds in `mode`."""
    if not long_running or mode == "sync":
        return SYNC
    if kind in ("delete", "action"):
        return LOCATION
    if mode == "async":
        return ASYNC_OPERATION
    # Recorded traffic: registry writes and every update complete at once, and only
    # the create of a child resource is polled.
    if kind == "create" and arm_type.lower() != ids.REGISTRY_TYPE.lower():
        return ASYNC_OPERATION
    return SYNC


Completion = Callable[[str], object]
"""Applies an operation's effect given its outcome; returns the final result body, if any."""


@dataclass
class Operation:
    name: str
    kind: str
    resource_id: str
    style: str
    due: float
    region: str
    complete: Completion
    outcome: str = "Succeeded"
    error: dict | None = None
    # HTTP status of a failed Location-style operation's final poll.
    fail_status: int = 500
    done: bool = False
    result: object = None

    @property
    def running_status(self) -> str:
        return RUNNING_STATES.get(self.kind, "InProgress")


class Operations:
    """Every operation started since the last reset, by name."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._operations: dict[str, Operation] = {}

    def start(
        self,
        *,
        kind: str,
        resource_id: str,
        style: str,
        seconds: float,
        region: str,
        complete: Completion,
        failure: tuple[str, dict | None, int | None] | None = None,
    ) -> Operation:
        """Register an operation.

        `failure` comes from an injected fault: the outcome, the `{"error": ...}` body
        and the status a Location poll reports it with.
        """
        rid = ids.parse(resource_id)
        prefix = rid.types[-1].lower() if rid else "operation"
        op = Operation(
            name=f"{prefix}-{uuid.uuid4()}",
            kind=kind,
            resource_id=resource_id,
            style=style,
            due=self._clock() + seconds,
            region=region,
            complete=complete,
        )
        if failure is not None:
            outcome, error, status = failure
            op.outcome = outcome
            op.error = (error or {}).get("error") or _DEFAULT_ERROR
            op.fail_status = status or 500
        self._operations[op.name.lower()] = op
        return op

    def settle(self) -> None:
        now = self._clock()
        for op in self._operations.values():
            if not op.done and now >= op.due:
                op.done = True
                op.result = op.complete(op.outcome)

    def get(self, name: str) -> Operation | None:
        return self._operations.get(name.lower())

    def in_flight(self, resource_id: str) -> Operation | None:
        key = ids.key(resource_id)
        for op in self._operations.values():
            if not op.done and ids.key(op.resource_id) == key:
                return op
        return None

    def clear(self) -> None:
        self._operations.clear()


def status_url(base: str, op: Operation) -> str:
    return f"{base}{op.resource_id}/operationStatuses/{op.name}?api-version={ARM_API_VERSION}"


def result_url(base: str, op: Operation) -> str:
    rid = ids.parse(op.resource_id)
    subscription = rid.subscription if rid else "00000000-0000-0000-0000-000000000000"
    return (f"{base}/subscriptions/{subscription}/providers/{ARM_PROVIDER}/locations/"
            f"{op.region}/operationResults/{op.name}?api-version={ARM_API_VERSION}")


def polling_headers(base: str, op: Operation, retry_after: int) -> dict[str, str]:
    """Return the headers of the first response and of every unfinished poll."""
    if op.style == ASYNC_OPERATION:
        return {"Azure-AsyncOperation": status_url(base, op), "Retry-After": str(retry_after)}
    return {"Location": result_url(base, op), "Retry-After": str(retry_after)}


def status_reply(base: str, op: Operation, retry_after: int) -> Reply:
    """Build the response to an Azure-AsyncOperation poll."""
    if not op.done:
        return Reply(200, {"status": op.running_status}, polling_headers(base, op, retry_after))
    if op.outcome == "Succeeded":
        return Reply(200, {"status": "Succeeded"})
    return Reply(200, {"status": op.outcome, "error": op.error})


def result_reply(base: str, op: Operation, retry_after: int) -> Reply:
    """Build the response to a Location poll."""
    if not op.done:
        return Reply(202, None, polling_headers(base, op, retry_after))
    if op.outcome == "Succeeded":
        return Reply(200, op.result)
    return Reply(op.fail_status, {"error": op.error})
