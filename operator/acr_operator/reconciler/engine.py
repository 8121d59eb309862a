"""The one generic reconciler: it makes Azure match a custom resource, for every kind.

A reconcile is one step, never a wait: it resolves where the resource
lives, then either polls the long-running operation saved in
`status.operation`, or reads the resource and writes it if it is missing
or differs from the spec. It returns how long to wait before the next step
(the next poll, a retry, or the resync) and leaves waiting to the caller.
Everything that must survive a restart is written to status before the
step returns, which is why a restarted operator polls the saved operation
instead of writing again.

Per-kind differences come from the kind's descriptor; this module has no
kind names in it. One-shot kinds, which send an action once instead of
keeping a resource in line, are handed to `oneshot`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from acr_operator.arm.errors import ArmError, ArmNotFound, ArmThrottled, ErrorClass, redact
from acr_operator.arm.lro import (
    PollResult,
    begin_operation,
    seconds_until_poll,
)
from acr_operator.reconciler import backoff, bodies, hooks, oneshot, outputs
from acr_operator.reconciler.conditions import (
    READY,
    STALLED,
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
from acr_operator.reconciler.descriptors import CreateHold, descriptor_for
from acr_operator.reconciler.diff import differences, patch_body
from acr_operator.reconciler.extras import Step, run_hooks
from acr_operator.reconciler.placement import (
    Placement,
    Waiting,
    place,
    resolve_references,
    resolve_secrets,
)

POLICY_ANNOTATION = "acr-operator.dev/reconcile-policy"
MANAGE, SKIP, DETACH = "manage", "skip", "detach-on-delete"
POLICIES = (MANAGE, SKIP, DETACH)
# A misspelt policy is not taken for manage: `detach` meant to keep the Azure resource,
# and reading it as manage would delete that resource with the object.
INVALID = "invalid"

# provisioningState values during which ARM is still working on the resource:
# writing then would only collide with the running operation.
BUSY_STATES = {
    "accepted", "creating", "updating", "deleting", "provisioning", "inprogress", "running",
}

# Status fields the engine owns beyond what a GET brings.
# `refusedGeneration` is the generation whose spec ARM refused with a user error; the
# spec is not sent again until metadata.generation moves past it.
_OWN_STATUS = ("conditions", "observedGeneration", "operation", "refusedGeneration", "writeOnlyHash")

_GERUNDS = {"create": "creating", "update": "updating", "delete": "deleting", "action": "running"}
_REASONS = {"create": "Creating", "update": "Updating", "delete": "Deleting", "action": "Running"}
_DONE = {"create": "Created", "update": "Updated"}


async def reconcile(obj: dict, ctx: Context) -> Outcome:
    """Take one step towards making Azure match `obj` (a custom resource as a plain dict).

    Idempotent: running it again with the same object and the same Azure
    state sends no write. A missing resource (GET 404) is created; an
    operation in flight is polled, never started again; a user error
    recorded for this generation is not retried until the spec changes.
    Writes the status through `ctx.effects` and never raises for ARM or
    Kubernetes-reference trouble: it reports it in the conditions.
    """
    if descriptor_for(obj["kind"]).one_shot:
        return await oneshot.reconcile(obj, ctx, skip=policy_of(obj) == SKIP)
    return await _Run(obj, ctx).reconcile()


async def delete(obj: dict, ctx: Context) -> Outcome:
    """Take one step towards deleting the Azure resource of `obj`.

    `Outcome.done` is True once ARM confirms the resource is gone (404 on
    GET or DELETE, or the delete operation succeeded), when the resource was
    never created, and at once under the skip and detach-on-delete policies.
    """
    if descriptor_for(obj["kind"]).one_shot:
        return oneshot.delete(obj, ctx)
    return await _Run(obj, ctx).delete()


def policy_of(obj: dict) -> str:
    """Return the object's reconcile policy, or INVALID for a value outside POLICIES."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = str(annotations.get(POLICY_ANNOTATION, MANAGE)).strip().lower()
    return value if value in POLICIES else INVALID


def _policy_value(obj: dict) -> str:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(POLICY_ANNOTATION))


class _Run:
    """One reconcile or deletion step of one object, with the status it builds."""

    def __init__(self, obj: dict, ctx: Context) -> None:
        self.obj = obj
        self.ctx = ctx
        self.descriptor = descriptor_for(obj["kind"])
        self.spec = obj.get("spec") or {}
        self.generation = obj["metadata"].get("generation")
        self.status = copy.deepcopy(obj.get("status") or {})
        self.previous_ready = find(self.status.get("conditions"), READY) or {}
        self.now = ctx.now()
        self.log = ctx.logger
        self.secrets: list[str] = []
        name = self.spec.get("azureName") or obj["metadata"]["name"]
        self.noun = f"{self.descriptor.kind} {name}"

    # --- reconcile -----------------------------------------------------------------------

    async def reconcile(self) -> Outcome:
        policy = policy_of(self.obj)
        if policy == SKIP:
            return await self.skip()
        if policy == INVALID:
            return await self.finish(stalled("InvalidReconcilePolicy", (
                f"The annotation {POLICY_ANNOTATION} is {_policy_value(self.obj)!r}, which is "
                f"not one of {', '.join(POLICIES)}; nothing is sent to Azure until it is fixed."
            )), self.resync())
        try:
            placement, desired = await self.prepare()
        except Waiting as waiting:
            return await self.wait(waiting)
        claimant = await self.other_claimant(placement.path)
        if claimant is not None:
            return await self.claimed(claimant, placement.path)
        try:
            operation = self.status.get("operation")
            if operation:
                return await self.follow(operation, placement, desired)
            return await self.converge(placement, desired)
        except ArmError as error:
            return await self.fail(error)

    async def prepare(self) -> tuple[Placement, dict]:
        placement = await place(
            self.descriptor, self.obj, resolver=self.ctx.resolver, settings=self.ctx.settings,
        )
        created = bool(self.status.get("id"))
        references = await resolve_references(
            self.descriptor, self.obj, resolver=self.ctx.resolver, created=created,
        )
        secrets = await resolve_secrets(self.descriptor, self.obj, resolver=self.ctx.resolver)
        self.secrets = bodies.secret_strings(secrets.values())
        self.ctx.memory.pop("waits", None)
        desired = bodies.desired_body(
            self.descriptor, self.spec, references=references, secrets=secrets,
        )
        return placement, desired

    async def follow(self, operation: dict, placement: Placement, desired: dict) -> Outcome:
        """Poll the saved operation once; when it is over, read the resource."""
        wait = seconds_until_poll(operation, now=self.now)
        if wait > 0:
            return Outcome(delay=wait)  # woken early by some change; the poll is not due
        result = await self.poll(operation)
        if result.state == "running":
            return await self.still_running(result)
        self.status.pop("operation", None)
        kind = operation.get("kind", "update")
        if result.state == "lost":
            self.log.info("The %s operation is no longer known to ARM; reading the resource.", kind)
            return await self.converge(placement, desired)
        if result.state == "succeeded":
            self.ctx.memory["attempts"] = 0
            self.log.info("ARM finished the %s operation; reading the resource.", kind)
            # A spec change, or a new value in a Secret the spec names, made while the
            # operation ran is written now; otherwise no second write in a row (ARM may
            # normalise a field we compare).
            began = operation.get("generation")
            changed = began != self.generation or self.write_only_changed(desired)
            return await self.converge(placement, desired, completed=kind, may_write=changed)
        self.status.pop("writeOnlyHash", None)
        raise _operation_error(result)

    async def poll(self, operation: dict) -> PollResult:
        return await outputs.poll(self.ctx, operation, now=self.now)

    async def still_running(self, result: PollResult) -> Outcome:
        self.status["operation"] = result.operation
        delay = seconds_until_poll(result.operation, now=self.now)
        self.log.debug("The operation is still running; polling again in %.0f seconds.", delay)
        return await self.finish(self.operation_verdict(result.operation, delay), delay)

    async def converge(
            self,
            placement: Placement,
            desired: dict,
            *,
            completed: str | None = None,
            may_write: bool = True,
    ) -> Outcome:
        """GET the resource; create it, write the differences, or report it Ready."""
        try:
            current = await self.ctx.client.request("GET", placement.path)
        except ArmNotFound:
            return await self.create(placement, desired)
        self.ctx.memory.pop("holds", None)
        body = current.body if isinstance(current.body, dict) else {}
        self.observe(placement, body)
        shown = str(self.status.get("provisioningState") or "")
        state = shown.lower()
        if state in BUSY_STATES:
            return await self.busy(shown)
        previous_stall = self.stall_of_this_generation()
        if previous_stall is not None:
            return await self.finish(previous_stall, self.resync())
        paths = differences(self.descriptor, desired, body)
        if self.write_only_changed(desired):
            paths += [p for p in self.descriptor.write_only if bodies.get_path(desired, p) is not None]
        if (paths or state == "failed") and may_write:
            return await self.write(placement, desired, paths, failed=state == "failed")
        if paths:
            self.log.warning(
                "Azure still differs on %s right after the write; trying again at the next resync.",
                ", ".join(paths),
            )
        self.ctx.memory["attempts"] = 0
        if completed in _DONE:
            self.event("Normal", _DONE[completed], f"{_DONE[completed]} {self.noun} in Azure.")
        return await self.after_ready(placement, body)

    async def after_ready(self, placement: Placement, body: dict) -> Outcome:
        """Run the kind's extra steps (outputs, actions), then report Ready unless one objected."""
        step = Step(obj=self.obj, status=self.status, placement=placement, observed=body,
                    ctx=self.ctx)
        verdict = await run_hooks(hooks.after_ready(self.descriptor.kind), step)
        delay = self.resync() if step.delay is None else min(step.delay, self.resync())
        if verdict is None:
            verdict = ready("Succeeded", f"{self.noun} exists in Azure and matches the spec.")
        return await self.finish(verdict, delay)

    async def create(self, placement: Placement, desired: dict) -> Outcome:
        # Fields of an earlier GET describe a resource that is gone now.
        self.status = {k: v for k, v in self.status.items() if k in _OWN_STATUS or k == "id"}
        previous_stall = self.stall_of_this_generation()
        if previous_stall is not None:
            return await self.finish(previous_stall, self.resync())
        if self.descriptor.create_guard is not None:
            hold = self.descriptor.create_guard(self.descriptor, self.spec, placement.params)
            if hold is not None:
                return await self.held(hold)
        if self.descriptor.name_check is not None:
            refusal = await self.check_name(placement)
            if refusal is not None:
                self.event("Warning", refusal.reason, refusal.message)
                self.status["refusedGeneration"] = self.generation
                return await self.finish(refusal, self.resync())
        # The worker's copy of the object may predate a delete: a resource created now
        # could not be deleted again, because no deletion handler would run for it.
        # NOTE: a delete that lands between this check and the PUT still leaves the resource.
        await self.ctx.effects.ensure_writable()
        self.event("Normal", "Creating", f"Creating {self.noun} in Azure.")
        body = desired if self.descriptor.has_body else None
        response = await self.ctx.client.request("PUT", placement.path, body=body)
        return await self.written("create", placement, desired, response)

    async def held(self, hold: CreateHold) -> Outcome:
        """Wait for a resource that only someone outside the operator can create."""
        attempt = self.ctx.memory.get("holds", 0)
        self.ctx.memory["holds"] = attempt + 1
        delay = backoff.wait_delay(attempt, rand=self.ctx.rand)
        self.log.info("%s Looking again in %.0f seconds.", hold.message, delay)
        return await self.finish(progressing(hold.reason, hold.message), delay)

    async def check_name(self, placement: Placement) -> Verdict | None:
        assert self.descriptor.name_check is not None
        check = self.descriptor.name_check(self.descriptor, self.spec, placement.params)
        response = await self.ctx.client.request("POST", check.path, body=check.body)
        answer = response.body if isinstance(response.body, dict) else {}
        if answer.get("nameAvailable") is not False:
            return None
        reason = _pascal(answer.get("reason")) or "NameNotAvailable"
        said = self.scrub(answer.get("message") or reason)
        return stalled(reason, (
            f"ARM says the name {check.body['name']} is not available: {said} The name is "
            f"global and spec.azureName cannot change; delete this {self.descriptor.kind} and "
            "create one with another name."
        ))

    async def write(self, placement: Placement, desired: dict, paths: list[str], *, failed: bool):
        if self.descriptor.has_update and not failed:
            method, body = "PATCH", patch_body(self.descriptor, desired, paths)
            if not body:
                self.log.info("Azure differs on %s, which cannot change in place.", ", ".join(paths))
                return await self.finish(
                    ready("Succeeded", f"{self.noun} exists in Azure."), self.resync(),
                )
        else:
            method, body = "PUT", desired if self.descriptor.has_body else None
        changed = ", ".join(paths) if paths else "provisioningState Failed"
        self.event("Normal", "Updating", f"Updating {self.noun} in Azure; it differs on {changed}.")
        response = await self.ctx.client.request(method, placement.path, body=body)
        return await self.written("update", placement, desired, response)

    async def written(self, kind: str, placement: Placement, desired: dict, response: Any):
        """Record an accepted write; poll it if ARM runs it as an operation."""
        self.status["id"] = placement.path
        digest = bodies.write_only_hash(self.descriptor, desired, salt=self.uid())
        if digest is None:
            self.status.pop("writeOnlyHash", None)
        else:
            self.status["writeOnlyHash"] = digest
        operation = begin_operation(
            kind, response.status, response.headers,
            now=self.now, default_poll=self.ctx.settings.default_poll_seconds,
        )
        if operation is None:
            self.log.info("ARM completed the %s at once (HTTP %s).", kind, response.status)
            return await self.converge(placement, desired, completed=kind, may_write=False)
        operation["generation"] = self.generation
        self.status["operation"] = operation
        delay = seconds_until_poll(operation, now=self.now)
        self.log.info(
            "ARM accepted the %s as a long-running operation; polling it in %.0f seconds.",
            kind, delay,
        )
        return await self.finish(self.operation_verdict(operation, delay), delay)

    async def busy(self, state: str) -> Outcome:
        """ARM is still working on the resource (no operation of ours to poll): look again soon."""
        delay = self.ctx.settings.default_poll_seconds
        reason = _pascal(state) or "Provisioning"
        return await self.finish(progressing(reason, (
            f"Azure reports provisioningState {reason} for {self.noun}; "
            f"checking again in {delay:.0f} seconds."
        )), delay)

    # --- deletion ------------------------------------------------------------------------

    async def delete(self) -> Outcome:
        policy = policy_of(self.obj)
        if policy == INVALID:
            self.event("Warning", "InvalidReconcilePolicy", (
                f"Left {self.noun} in Azure, because the annotation {POLICY_ANNOTATION} is "
                f"{_policy_value(self.obj)!r}, which is not one of {', '.join(POLICIES)}."
            ))
            return Outcome(delay=0, done=True)
        if policy in (SKIP, DETACH):
            if self.status.get("id"):
                self.event("Normal", "Detached", (
                    f"Left {self.noun} in Azure, as the reconcile-policy annotation is {policy}."
                ))
            return Outcome(delay=0, done=True)
        try:
            operation = self.status.get("operation")
            if operation and operation.get("kind") == "delete":
                outcome = await self.follow_delete(operation)
                if outcome is not None:
                    return outcome
            elif operation:
                self.status.pop("operation")  # a create or update in flight is superseded
            path = await self.deletion_path()
            if path is None:
                self.log.info("%s was never created in Azure; nothing to delete.", self.noun)
                return Outcome(delay=0, done=True)
            claimant = await self.other_claimant(path)
            if claimant is not None:
                namespace, name, _ = claimant
                self.log.info(
                    "%s %s/%s manages %s, not this object; releasing it without a DELETE.",
                    self.descriptor.kind, namespace, name, path,
                )
                return Outcome(delay=0, done=True)
            return await self.delete_at(path)
        except ArmError as error:
            return await self.fail(error, deleting=True)

    async def follow_delete(self, operation: dict) -> Outcome | None:
        wait = seconds_until_poll(operation, now=self.now)
        if wait > 0:
            return Outcome(delay=wait)
        result = await self.poll(operation)
        if result.state == "running":
            return await self.still_running(result)
        self.status.pop("operation", None)
        if result.state in ("failed", "canceled"):
            raise _operation_error(result)
        return None  # succeeded or lost: a GET below confirms

    async def deletion_path(self) -> str | None:
        if self.status.get("id"):
            return self.status["id"]
        try:
            placement = await place(
                self.descriptor, self.obj, resolver=self.ctx.resolver, settings=self.ctx.settings,
            )
        except Waiting:
            return None  # no parent and no id: it cannot have been created
        return placement.path

    async def delete_at(self, path: str) -> Outcome:
        try:
            current = await self.ctx.client.request("GET", path)
        except ArmNotFound:
            return self.gone()
        state = str(bodies.get_path(current.body, "properties.provisioningState") or "")
        if state.lower() == "deleting":
            return await self.busy(state)
        self.event("Normal", "Deleting", f"Deleting {self.noun} from Azure.")
        try:
            response = await self.ctx.client.request("DELETE", path)
        except ArmNotFound:
            return self.gone()
        self.status["id"] = path
        operation = begin_operation(
            "delete", response.status, response.headers,
            now=self.now, default_poll=self.ctx.settings.default_poll_seconds,
        )
        if operation is not None:
            self.status["operation"] = operation
            delay = seconds_until_poll(operation, now=self.now)
            return await self.finish(self.operation_verdict(operation, delay), delay)
        if response.status == 202:
            return await self.busy("deleting")
        return self.gone()

    def gone(self) -> Outcome:
        self.ctx.memory["attempts"] = 0
        if self.status.get("id"):
            self.event("Normal", "Deleted", f"Deleted {self.noun} from Azure.")
        self.log.info("%s is gone from Azure; releasing the object.", self.noun)
        return Outcome(delay=0, done=True)

    # --- claims --------------------------------------------------------------------------

    async def other_claimant(self, arm_id: str) -> tuple[str, str, str] | None:
        """Return another object whose status.id is `arm_id`, or None if this object's is too.

        Two objects placed on one ARM id would both report Ready, and deleting
        either would delete the resource that the other still reports. So only
        the object whose status.id is the ARM id writes to it or deletes it.
        """
        if str(self.status.get("id") or "").lower() == arm_id.lower():
            return None
        uid = self.obj["metadata"].get("uid")
        # NOTE: the claims come from status.id as the watch last delivered it, so two objects
        # created in the same instant both find no claimant. Both then write and keep the id.
        for claimant in await self.ctx.resolver.claimants(self.descriptor.kind, arm_id):
            if claimant[2] != uid:
                return claimant
        return None

    async def claimed(self, claimant: tuple[str, str, str], arm_id: str) -> Outcome:
        """Report that another object manages this ARM id, without any ARM request; retry at resync."""
        namespace, name, _ = claimant
        verdict = stalled("AzureResourceClaimed", (
            f"{self.descriptor.kind} {namespace}/{name} already manages {arm_id}; "
            "delete this object or give it another spec.azureName."
        ))
        self.log.warning(verdict.message)
        if verdict.reason != self.previous_ready.get("reason"):
            self.event("Warning", verdict.reason, verdict.message)
        return await self.finish(verdict, self.resync())

    # --- outcomes ------------------------------------------------------------------------

    async def fail(self, error: ArmError, *, deleting: bool = False) -> Outcome:
        message = self.scrub(error.message)
        if error.stalls:
            return await self.stall(error, message, deleting=deleting)
        attempt = self.ctx.memory.get("attempts", 0)
        self.ctx.memory["attempts"] = attempt + 1
        delay = backoff.retry_delay(attempt, retry_after=error.retry_after, rand=self.ctx.rand)
        if isinstance(error, ArmThrottled):
            reason, said = "Throttled", f"ARM answered 429 {error.code}"
        elif error.code == "NetworkError":
            reason, said = "TransientError", "ARM did not respond"
        elif error.status is None:
            reason, said = _reason(error.code), f"The ARM operation failed with {error.code}"
        else:
            reason, said = _reason(error.code), f"ARM answered {error.status} {error.code}"
        text = f"{said}; retrying in {delay:.0f} seconds."
        self.log.info(text)
        if reason != self.previous_ready.get("reason"):
            self.event("Warning", reason, f"{text} {message}")
        return await self.finish(progressing(reason, f"{text} {message}"), delay)

    async def stall(self, error: ArmError, message: str, *, deleting: bool) -> Outcome:
        resync = self.resync()
        if deleting:
            fix = (
                "Fix it in Azure, or set the annotation "
                f"{POLICY_ANNOTATION}: {DETACH} to release the object without deleting."
            )
        elif error.classification is ErrorClass.BLOCKED:
            fix = f"Fix it in Azure; the operator tries again in {resync / 60:.0f} minutes."
        else:
            fix = "Fix the spec and apply it again."
        where = f" (HTTP {error.status})" if error.status else ""
        verdict = stalled(_reason(error.code), f"ARM refused the request{where}: {message} {fix}")
        if error.classification is ErrorClass.USER and not deleting:
            self.status["refusedGeneration"] = self.generation
        self.log.warning("ARM rejected the request with %s; not retrying until %s.", error.code, (
            "the spec changes" if error.classification is ErrorClass.USER else "the next resync"
        ))
        if verdict.reason != self.previous_ready.get("reason"):
            self.event("Warning", verdict.reason, verdict.message)
        return await self.finish(verdict, resync)

    async def wait(self, waiting: Waiting) -> Outcome:
        verdict, delay = waiting_verdict(
            waiting, self.ctx.memory, resync=self.resync(), rand=self.ctx.rand,
        )
        self.log.info("%s Looking again in %.0f seconds.", waiting.message, delay)
        return await self.finish(verdict, delay, waiting_on=waiting.on)

    async def skip(self) -> Outcome:
        status = self.previous_ready.get("status") or UNKNOWN
        verdict = Verdict(status, "Skipped", (
            f"The {POLICY_ANNOTATION} annotation is skip: the operator neither reads nor writes "
            "Azure for this object. Remove the annotation to manage it again."
        ))
        return await self.finish(verdict, self.resync())

    async def finish(
            self,
            verdict: Verdict,
            delay: float,
            *,
            waiting_on: tuple[str, str] | None = None,
    ) -> Outcome:
        """Write the conditions and the status built so far, and return the delay until the next step."""
        if verdict.ready == TRUE:
            self.status.pop("refusedGeneration", None)
        self.status["conditions"] = apply_verdict(
            self.status.get("conditions"), verdict, generation=self.generation, now=self.now,
        )
        # Under skip nothing of the spec reached Azure, so kstatus must not see it as observed.
        if (verdict.ready == TRUE or verdict.stalled) and verdict.reason != "Skipped":
            self.status["observedGeneration"] = self.generation
        await self.ctx.effects.patch_status(self.status)
        return Outcome(delay=delay, waiting_on=waiting_on, verdict=verdict)

    # --- helpers -------------------------------------------------------------------------

    def observe(self, placement: Placement, body: dict) -> None:
        """Replace the status fields of the last GET with those of `body`."""
        own = (*_OWN_STATUS, *hooks.status_keys(self.descriptor.kind))
        kept = {k: v for k, v in self.status.items() if k in own}
        kept.update(bodies.observed_status(self.descriptor, body))
        kept["id"] = body.get("id") or placement.path
        self.status = kept

    def stall_of_this_generation(self) -> Verdict | None:
        """The refusal ARM gave for this very generation, if any: do not send it again.

        Only user errors are recorded (see `stall`); blocked requests (access,
        quota) are tried again on every resync, since nobody edits the spec
        to fix those.
        """
        if self.generation is None or self.status.get("refusedGeneration") != self.generation:
            return None
        condition = find(self.status.get("conditions"), STALLED) or {}
        if condition.get("status") != TRUE:
            return None
        return stalled(condition.get("reason") or "Refused", condition.get("message") or "-")

    def write_only_changed(self, desired: dict) -> bool:
        digest = bodies.write_only_hash(self.descriptor, desired, salt=self.uid())
        return digest != self.status.get("writeOnlyHash")

    def operation_verdict(self, operation: dict, delay: float) -> Verdict:
        kind = operation.get("kind", "update")
        return progressing(_REASONS.get(kind, "Running"), (
            f"Azure is {_GERUNDS.get(kind, 'running')} {self.noun}; "
            f"polling the operation again in {delay:.0f} seconds."
        ))

    def event(self, type: str, reason: str, message: str) -> None:
        self.ctx.effects.post_event(type, reason, self.scrub(message))

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return redact(text)

    def resync(self) -> float:
        return backoff.resync_delay(self.ctx.settings.resync_seconds, rand=self.ctx.rand)

    def uid(self) -> str:
        return str(self.obj["metadata"].get("uid") or self.obj["metadata"]["name"])


def _operation_error(result: PollResult) -> ArmError:
    error = result.error or {}
    code = error.get("code") or ("Canceled" if result.state == "canceled" else "OperationFailed")
    return ArmError(
        f"The long-running operation {result.state}: {error.get('message') or code}",
        code=code,
    )


def _reason(code: Any) -> str:
    """Return an ARM error code as a condition reason, which Kubernetes wants PascalCase.

    ARM's codes already are; anything else ('internal server.error-42') is
    joined into letters and digits so that kstatus tools can match on it.
    """
    return re.sub(r"[^A-Za-z0-9]", "", _pascal(code)) or "ArmError"


def _pascal(text: Any) -> str:
    """'already exists' -> 'AlreadyExists'; PascalCase input stays as it is."""
    if not isinstance(text, str) or not text.strip():
        return ""
    words = text.replace("_", " ").replace("-", " ").split()
    if len(words) == 1:
        return words[0][0].upper() + words[0][1:]
    return "".join(word[0].upper() + word[1:].lower() for word in words)

