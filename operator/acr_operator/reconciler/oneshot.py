"""One-shot kinds: each object sends one ARM action once, as a Job runs once.

ImportImage is not a resource: it copies an image, and sending it again is
a new request that may overwrite a tag or fail on the tag the first run
made. So one ImageImport object is one run. The CRD rejects any change of
its spec (a CEL rule), and the operator sends the action at most once per
object:

- Before the POST, `status.startedAt` is written. If a step finds it set
  with neither an operation nor a result, and this process did not send the
  POST itself, a POST may have gone out just before a restart. The step
  then sends nothing and reports OutcomeUnknown.
- A 202 saves the Location in `status.operation`, so a restarted operator
  polls it instead of sending again.
- The end (success, ARM's rejection, the operation's failure) is written as
  `status.result` and `status.completedAt`, and nothing is sent after that.

Only errors that show the request was not accepted are retried: 429 and
other transient responses, and a network failure in the same process, which
the design treats as transient too. A rejection for access or quota is
Stalled and tried again at the resync, because nothing was imported.
Deleting the object sends nothing, so imported images stay.
"""

from __future__ import annotations

import copy
from typing import Any

from acr_operator.arm.errors import ArmError, ArmThrottled, ErrorClass, redact
from acr_operator.arm.lro import (
    PollResult,
    begin_operation,
    format_time,
    seconds_until_poll,
)
from acr_operator.reconciler import backoff, bodies, outputs
from acr_operator.reconciler.conditions import (
    READY,
    TRUE,
    UNKNOWN,
    Verdict,
    apply_verdict,
    find,
    progressing,
    ready,
    stalled,
    waiting_verdict,
)
from acr_operator.reconciler.context import Context, Outcome
from acr_operator.reconciler.descriptors import descriptor_for
from acr_operator.reconciler.placement import (
    Waiting,
    place_action,
    resolve_references,
    resolve_secrets,
)

# Condition reasons per kind: while the action runs, and once it succeeded.
_REASONS = {"ImageImport": ("Importing", "Imported")}
_DEFAULT_REASONS = ("Running", "Succeeded")

# Per-object memory key, set when this process sent the POST and got no response (a
# network failure). The next send is then the retry of a transient error. Without the key,
# a marker in status means a restart (or a failed status write) right after a send.
_UNANSWERED = "oneShotUnanswered"


async def reconcile(obj: dict, ctx: Context, *, skip: bool = False) -> Outcome:
    """Take one step of a one-shot object: send its action, poll it, or record its end."""
    return await _Shot(obj, ctx).step(skip=skip)


def delete(obj: dict, ctx: Context) -> Outcome:
    """Release the object at once: a one-shot action has nothing in Azure to delete."""
    status = obj.get("status") or {}
    if status.get("operation"):
        ctx.logger.info("The action keeps running in Azure, because deleting the object does "
                        "not stop it.")
    ctx.logger.info("Nothing to delete in Azure for %s %s, so the object is released.",
                    obj["kind"], obj["metadata"]["name"])
    return Outcome(delay=0, done=True)


class _Shot:
    """One step of one one-shot object, with the status it builds."""

    def __init__(self, obj: dict, ctx: Context) -> None:
        self.obj = obj
        self.ctx = ctx
        self.descriptor = descriptor_for(obj["kind"])
        self.spec = obj.get("spec") or {}
        self.generation = obj["metadata"].get("generation")
        self.status = copy.deepcopy(obj.get("status") or {})
        self.now = ctx.now()
        self.log = ctx.logger
        self.secrets: list[str] = []
        self.running, self.done = _REASONS.get(self.descriptor.kind, _DEFAULT_REASONS)
        self.action = self.descriptor.operations["action"]
        self.noun = f"{self.descriptor.kind} {obj['metadata']['name']}"

    async def step(self, *, skip: bool) -> Outcome:
        if self.status.get("completedAt"):
            return Outcome(delay=self.resync())  # A finished run sends nothing again.
        if skip:
            return await self.skipped()
        try:
            operation = self.status.get("operation")
            if operation:
                return await self.follow(operation)
            if self.status.get("startedAt") and not self.ctx.memory.get(_UNANSWERED):
                return await self.unknown("the operator restarted after sending the request "
                                          "and before it recorded ARM's response")
            return await self.send()
        except Waiting as waiting:
            return await self.wait(waiting)
        except ArmError as error:
            return await self.fail(error)

    # --- sending and polling ---------------------------------------------------------------

    async def send(self) -> Outcome:
        placement = await place_action(self.descriptor, self.obj, resolver=self.ctx.resolver)
        references = await resolve_references(
            self.descriptor, self.obj, resolver=self.ctx.resolver, created=False,
        )
        secrets = await resolve_secrets(self.descriptor, self.obj, resolver=self.ctx.resolver)
        self.secrets = bodies.secret_strings(secrets.values())
        body = bodies.desired_body(
            self.descriptor, self.spec, references=references, secrets=secrets,
        )
        self.ctx.memory.pop("waits", None)
        # The marker is written before the request, so a restart cannot send it again.
        self.status["startedAt"] = self.status.get("startedAt") or format_time(self.now)
        await self.write(progressing(self.running, f"Sending {self.action} to ARM."))
        self.ctx.memory.pop(_UNANSWERED, None)
        self.event("Normal", self.running, f"Sending {self.action} for {self.noun}.")
        response = await self.ctx.client.request("POST", placement.path, body=body)
        operation = begin_operation(
            "action", response.status, response.headers,
            now=self.now, default_poll=self.ctx.settings.default_poll_seconds,
        )
        if operation is None:
            return await self.succeeded()
        operation["generation"] = self.generation
        self.status["operation"] = operation
        return await self.still_running(operation)

    async def follow(self, operation: dict) -> Outcome:
        wait = seconds_until_poll(operation, now=self.now)
        if wait > 0:
            return Outcome(delay=wait)  # Woken early, before the poll is due.
        result = await self.poll(operation)
        if result.state == "running":
            self.status["operation"] = result.operation
            return await self.still_running(result.operation)
        if result.state == "succeeded":
            return await self.succeeded()
        if result.state == "lost":
            return await self.unknown("ARM no longer knows the operation it handed out")
        error = result.error or {}
        return await self.failed(error.get("code") or "OperationFailed",
                                 error.get("message") or f"the operation ended {result.state}")

    async def poll(self, operation: dict) -> PollResult:
        return await outputs.poll(self.ctx, operation, now=self.now)

    async def still_running(self, operation: dict) -> Outcome:
        delay = seconds_until_poll(operation, now=self.now)
        return await self.finish(progressing(self.running, (
            f"ARM is running {self.action}; polling the operation again in {delay:.0f} seconds."
        )), delay)

    # --- ends ------------------------------------------------------------------------------

    async def succeeded(self) -> Outcome:
        self.end({"status": "Succeeded"})
        message = f"{self.summary()} Create a new {self.descriptor.kind} to run it again."
        self.event("Normal", self.done, message)
        return await self.finish(ready(self.done, message), self.resync())

    async def failed(self, code: str, message: str, *, status: int | None = None) -> Outcome:
        cleaned = self.scrub(message)
        self.end({"status": "Failed", "code": code, "message": cleaned})
        where = f" (HTTP {status})" if status else ""
        verdict = stalled(code, (
            f"{self.action} failed{where}: {cleaned} This {self.descriptor.kind} runs only "
            f"once. Fix the cause and create a new {self.descriptor.kind}."
        ))
        self.log.warning("%s failed with %s; it is not sent again.", self.action, code)
        self.event("Warning", code, verdict.message)
        return await self.finish(verdict, self.resync())

    async def unknown(self, cause: str) -> Outcome:
        self.end({"status": "Failed", "code": "OutcomeUnknown", "message": cause})
        verdict = stalled("OutcomeUnknown", (
            f"Whether {self.action} ran is unknown: {cause}. It is not sent again, so that it "
            f"never runs twice. Check the target in Azure, and create a new "
            f"{self.descriptor.kind} if the result is missing."
        ))
        self.log.warning("The outcome of %s is unknown, because %s.", self.action, cause)
        self.event("Warning", "OutcomeUnknown", verdict.message)
        return await self.finish(verdict, self.resync())

    def end(self, result: dict) -> None:
        self.status.pop("operation", None)
        self.status["result"] = result
        self.status["completedAt"] = format_time(self.now)
        self.ctx.memory.pop(_UNANSWERED, None)
        self.ctx.memory.pop("attempts", None)

    # --- errors and waits ------------------------------------------------------------------

    async def fail(self, error: ArmError) -> Outcome:
        if error.classification in (ErrorClass.USER, ErrorClass.NOT_FOUND):
            return await self.failed(error.code, error.message, status=error.status)
        if error.status is None:
            self.ctx.memory[_UNANSWERED] = True
        else:
            # ARM rejected the request and accepted nothing, so the next try is a first send.
            self.status.pop("startedAt", None)
        if error.classification is ErrorClass.BLOCKED:
            return await self.blocked(error)
        attempt = self.ctx.memory.get("attempts", 0)
        self.ctx.memory["attempts"] = attempt + 1
        delay = backoff.retry_delay(attempt, retry_after=error.retry_after, rand=self.ctx.rand)
        if isinstance(error, ArmThrottled):
            reason = "Throttled"
        elif error.status is None:
            reason = "TransientError"
        else:
            reason = error.code
        message = f"{error.describe()}. Trying again in {delay:.0f} seconds."
        self.log.info(self.scrub(message))
        return await self.finish(progressing(reason, self.scrub(message)), delay)

    async def blocked(self, error: ArmError) -> Outcome:
        resync = self.resync()
        verdict = stalled(error.code, self.scrub(
            f"ARM rejected {self.action} (HTTP {error.status}): {error.message} Nothing ran. "
            f"Fix the access or quota in Azure. The operator tries again in "
            f"{resync / 60:.0f} minutes."
        ))
        self.log.warning("ARM rejected %s with %s; trying again at the resync.",
                         self.action, error.code)
        if verdict.reason != self.previous_reason():
            self.event("Warning", verdict.reason, verdict.message)
        return await self.finish(verdict, resync)

    async def wait(self, waiting: Waiting) -> Outcome:
        verdict, delay = waiting_verdict(
            waiting, self.ctx.memory, resync=self.resync(), rand=self.ctx.rand,
        )
        self.log.info("%s Looking again in %.0f seconds.", waiting.message, delay)
        return await self.finish(verdict, delay, waiting_on=waiting.on)

    async def skipped(self) -> Outcome:
        status = (find(self.status.get("conditions"), READY) or {}).get("status") or UNKNOWN
        return await self.finish(Verdict(status, "Skipped", (
            "The acr-operator.dev/reconcile-policy annotation is skip: the action is not sent. "
            "Remove the annotation to send it."
        )), self.resync())

    # --- helpers ---------------------------------------------------------------------------

    async def write(self, verdict: Verdict) -> None:
        self.status["conditions"] = apply_verdict(
            self.status.get("conditions"), verdict, generation=self.generation, now=self.now,
        )
        if verdict.ready == TRUE or verdict.stalled:
            self.status["observedGeneration"] = self.generation
        await self.ctx.effects.patch_status(self.status)

    async def finish(
            self,
            verdict: Verdict,
            delay: float,
            *,
            waiting_on: tuple[str, str] | None = None,
    ) -> Outcome:
        await self.write(verdict)
        return Outcome(delay=delay, waiting_on=waiting_on, verdict=verdict)

    def summary(self) -> str:
        if self.descriptor.kind == "ImageImport":
            return _import_summary(self.spec)
        return f"ARM finished {self.action}."

    def previous_reason(self) -> str | None:
        return (find(self.status.get("conditions"), READY) or {}).get("reason")

    def event(self, type: str, reason: str, message: str) -> None:
        self.ctx.effects.post_event(type, reason, self.scrub(message))

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return redact(text)

    def resync(self) -> float:
        return backoff.resync_delay(self.ctx.settings.resync_seconds, rand=self.ctx.rand)


def _import_summary(spec: dict[str, Any]) -> str:
    source = spec.get("source") or {}
    image = source.get("sourceImage", "?")
    targets = [*(spec.get("targetTags") or ()), *(
        f"{repo} (untagged)" for repo in spec.get("untaggedTargetRepositories") or ())]
    into = ", ".join(targets) if targets else "its own repository and tag"
    return f"Imported {image} as {into}."
