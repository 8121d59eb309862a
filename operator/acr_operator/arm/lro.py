"""Long-running ARM operations: the record saved on the object, and reading polls.

A write that ARM cannot finish at once answers 201 or 202 with a polling
URL. The reconciler saves that URL in `status.operation` (the record built
here) and polls it once per reconcile, so an operator restarted in the
middle of an operation continues to watch it instead of writing again.

Two polling styles occur in real ACR traffic:

- `azure-async-operation`: the `Azure-AsyncOperation` header names an
  operation-status resource whose body says `{"status": "InProgress" |
  ... | "Succeeded" | "Failed" | "Canceled", "error": {...}}`. Child
  creates use it.
- `location`: the `Location` header names a URL that answers 202 while the
  operation runs and 200/201/204 when it is done, possibly with the final
  body (a resource or an action's result). Deletes use it; a 404 while
  polling a delete means the resource is gone.

When both headers are present, Azure-AsyncOperation wins, as in ARM's
guidelines. Everything here is pure: time comes in as an argument.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

from acr_operator.arm.errors import ArmError, ErrorClass, header, parse_retry_after

STYLE_ASYNC = "azure-async-operation"
STYLE_LOCATION = "location"

# ARM may suggest any Retry-After; a bogus huge value must not park an object
# for hours, and zero must not make a tight loop.
MIN_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 300.0

_SUCCEEDED = {"succeeded"}
_FAILED = {"failed"}
_CANCELED = {"canceled", "cancelled"}

State = Literal["running", "succeeded", "failed", "canceled", "lost"]


@dataclasses.dataclass(frozen=True)
class PollResult:
    """What one poll of an operation said.

    - running: poll again at `operation["nextPollAt"]`.
    - succeeded: done; `body` is the final body for location-style polls.
    - failed / canceled: done; `error` is `{"code", "message"}`.
    - lost: the polling URL no longer answers (expired, unknown); drop the
      record and look at the resource itself.
    """

    state: State
    operation: dict
    body: Any = None
    error: dict | None = None

    @property
    def done(self) -> bool:
        return self.state != "running"


def begin_operation(
        kind: str,
        status: int,
        headers: Mapping[str, str],
        *,
        now: datetime.datetime,
        default_poll: float,
) -> dict | None:
    """The `status.operation` record for a write's answer, or None if the write is done.

    `kind` is create, update, delete or action. Only 201 and 202 with a
    polling header start an operation; a 200 or 204 (or a 201 without a
    header, which ARM uses for synchronous creates) completes at once.
    """
    if status not in (201, 202):
        return None
    url = header(headers, "Azure-AsyncOperation")
    style = STYLE_ASYNC
    if not url:
        url = header(headers, "Location")
        style = STYLE_LOCATION
    if not url:
        return None
    delay = poll_delay(headers, default_poll=default_poll)
    return {
        "kind": kind,
        "url": url,
        "style": style,
        "startedAt": format_time(now),
        "nextPollAt": format_time(now + datetime.timedelta(seconds=delay)),
    }


def evaluate_poll(
        operation: dict,
        status: int,
        headers: Mapping[str, str],
        body: Any,
        *,
        now: datetime.datetime,
        default_poll: float,
) -> PollResult:
    """Read a successful (< 400) answer to a poll of `operation`."""
    if operation.get("style") == STYLE_ASYNC:
        return _evaluate_async(operation, headers, body, now=now, default_poll=default_poll)
    return _evaluate_location(operation, status, headers, body, now=now, default_poll=default_poll)


def evaluate_poll_error(
        operation: dict,
        error: ArmError,
        *,
        now: datetime.datetime,
        default_poll: float,
) -> PollResult:
    """Read an error raised while polling `operation`.

    404 ends a delete (gone is what was asked for) and loses any other
    operation. Retryable errors keep polling, later. User and blocked errors
    on a location-style poll are the operation's own failure.
    """
    if error.classification is ErrorClass.NOT_FOUND or error.status == 404:
        if operation.get("kind") == "delete":
            return PollResult("succeeded", operation)
        return PollResult("lost", operation)
    if error.retryable:
        delay = _clamp(error.retry_after if error.retry_after is not None else default_poll)
        return PollResult("running", reschedule(operation, now=now, delay=delay))
    if error.code == "ForeignUrl":
        return PollResult("lost", operation)
    return PollResult("failed", operation, error={"code": error.code, "message": error.message})


def reschedule(operation: dict, *, now: datetime.datetime, delay: float) -> dict:
    """A copy of the record with nextPollAt moved to `now + delay`."""
    moved = dict(operation)
    moved["nextPollAt"] = format_time(now + datetime.timedelta(seconds=delay))
    return moved


def seconds_until_poll(operation: dict, *, now: datetime.datetime) -> float:
    """Seconds until the record's nextPollAt; 0 when due or unreadable."""
    when = parse_time(operation.get("nextPollAt"))
    if when is None:
        return 0.0
    return max(0.0, (when - now).total_seconds())


def poll_delay(headers: Mapping[str, str], *, default_poll: float) -> float:
    """Seconds before the next poll: Retry-After if ARM gave one, else the default."""
    retry_after = parse_retry_after(headers)
    return _clamp(default_poll if retry_after is None else retry_after)


def format_time(when: datetime.datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second, as Kubernetes writes times."""
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def _evaluate_async(
        operation: dict,
        headers: Mapping[str, str],
        body: Any,
        *,
        now: datetime.datetime,
        default_poll: float,
) -> PollResult:
    status = str(body.get("status", "")) if isinstance(body, dict) else ""
    folded = status.lower()
    if folded in _SUCCEEDED:
        return PollResult("succeeded", operation)
    if folded in _FAILED or folded in _CANCELED:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = error.get("code") or ("Canceled" if folded in _CANCELED else "OperationFailed")
        message = error.get("message") or f"the ARM operation ended {status}"
        state: State = "canceled" if folded in _CANCELED else "failed"
        return PollResult(state, operation, error={"code": code, "message": message})
    # Any other status (InProgress, Accepted, Creating, Updating, Deleting, ...) runs on.
    delay = poll_delay(headers, default_poll=default_poll)
    return PollResult("running", reschedule(operation, now=now, delay=delay))


def _evaluate_location(
        operation: dict,
        status: int,
        headers: Mapping[str, str],
        body: Any,
        *,
        now: datetime.datetime,
        default_poll: float,
) -> PollResult:
    if status == 202:
        delay = poll_delay(headers, default_poll=default_poll)
        moved = reschedule(operation, now=now, delay=delay)
        # A Location on a 202 replaces the previous one, as azure-core's poller does.
        newer = header(headers, "Location")
        if newer:
            moved["url"] = newer
        return PollResult("running", moved)
    return PollResult("succeeded", operation, body=body)


def _clamp(seconds: float) -> float:
    return min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, float(seconds)))
