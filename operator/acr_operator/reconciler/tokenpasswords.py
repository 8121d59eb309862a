"""Token passwords: generated with GenerateCredentials, kept in Secrets that the user names.

ARM returns a token password only in the response of the GenerateCredentials
action that creates it, so the Secret is the only copy. Hence these rules:

- A password is generated when it never was, when its counter in
  spec.passwords.rotation is above the one recorded, or when the Secret lost
  its value (reason SecretLost, with a Warning Event). A restart finds the
  record and generates nothing.
- One generation replaces one password. The other stays valid, so a
  consumer that reads the Secret again always has a working login.
- When ARM runs the action as a long-running operation (202 with Location),
  the operation is saved in status.passwords.pending before the step
  returns. After a restart it is polled, never sent again, and its final
  poll returns the password. A crash between the POST and that status write
  is the one case in which a password is generated twice. The first value
  was never written anywhere, so no consumer loses a working login.
- The record of what was generated (rotation, creation time, expiry; no
  values) is kept on the Secret (see `outputs`) and copied to
  status.passwords.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from acr_operator.arm.errors import ArmError
from acr_operator.arm.lro import begin_operation, format_time, parse_time, seconds_until_poll
from acr_operator.reconciler import outputs
from acr_operator.reconciler.conditions import Verdict, progressing, stalled
from acr_operator.reconciler.context import SecretConflict
from acr_operator.reconciler.descriptors import descriptor_for
from acr_operator.reconciler.extras import Step

SPEC_FIELD = "passwords"
STATUS_KEY = "passwords"
NAMES = ("password1", "password2")
GENERATE = "Registries_GenerateCredentials"

# Why a password is generated: the condition reason while ARM works on it, and the Event.
_REASONS = {"create": "GeneratingPassword", "rotate": "RotatingPassword", "lost": "SecretLost"}
_EVENTS = {"create": "PasswordGenerated", "rotate": "PasswordRotated", "lost": "PasswordGenerated"}
# The fields of a TokenPassword that a token PATCH may carry back; `value` is read-only.
_PASSWORD_FIELDS = ("name", "creationTime", "expiry")


def secret_names(spec: Mapping) -> tuple[str, ...]:
    """Return the Secrets that spec.passwords writes, so that a change to them wakes the token."""
    config = spec.get(SPEC_FIELD) or {}
    return outputs.secret_names(config.get("secretName"))


async def export_passwords(step: Step) -> Verdict | None:
    """Generate the token passwords that are due, and write them to the named Secrets.

    A hook (see `extras`): does nothing without spec.passwords, and sends
    nothing to ARM when no password is due.
    """
    config = step.spec.get(SPEC_FIELD)
    if not isinstance(config, dict) or not config.get("secretName"):
        step.status.pop(STATUS_KEY, None)
        return None
    try:
        return await _Export(step, config).run()
    except SecretConflict as conflict:
        return outputs.announce(step, stalled(conflict.reason, (
            f"{conflict.message}. Delete that Secret, or set another spec.passwords.secretName."
        )))


class _Export:
    """One pass over the passwords of one token: generate what is due, write the Secrets."""

    def __init__(self, step: Step, config: dict) -> None:
        self.step = step
        self.ctx = step.ctx
        self.config = config
        self.secret_name: str = config["secretName"]
        self.state: dict = copy.deepcopy(step.status.get(STATUS_KEY) or {})
        self.token = step.placement.params[descriptor_for("Token").name_parameter]
        self.noun = f"token {self.token}"
        self.values: dict[str, str] = {}
        self.record: dict[str, dict] = {}
        self.known: set[str] = set()

    async def run(self) -> Verdict | None:
        await self.load()
        pending = self.state.get("pending")
        if pending:
            verdict = await self.follow(pending)
            if verdict is not None:
                return verdict
        for name in NAMES:
            if not self.enabled(name):
                await self.remove(name)
                continue
            cause = self.cause(name)
            if cause is None:
                self.adopt(name)
                continue
            verdict = await self.generate(name, cause)
            if verdict is not None:
                return verdict
        await self.save()
        return self.expiry_verdict()

    # --- reading what was written before -------------------------------------------------

    async def load(self) -> None:
        effects = self.ctx.effects
        secret = await effects.read_owned_secret(self.secret_name)
        previous = self.state.get("secretName")
        if secret is None and previous and previous != self.secret_name:
            # spec.passwords.secretName changed: carry the values over from the old Secret.
            try:
                secret = await effects.read_owned_secret(previous)
            except SecretConflict:
                secret = None
        if secret is not None:
            self.values = {k: v for k, v in secret.data.items() if k in ("username", *NAMES)}
        self.record = outputs.record_of(secret)
        # What was generated before, by the Secret's record or by status: a password that
        # was generated and is not in the Secret any more was lost, not never made.
        self.known = {name for name in NAMES if name in self.record or name in self.state}

    def cause(self, name: str) -> str | None:
        """Return why `name` must be generated now (create, rotate, lost), or None."""
        if name not in self.values:
            return "lost" if name in self.known else "create"
        entry = self.record.get(name)
        if entry is not None and self.requested(name) > _rotation(entry):
            return "rotate"
        return None

    def adopt(self, name: str) -> None:
        # A value without a record (someone removed the annotation) counts as the current one.
        if name not in self.record:
            self.record[name] = dict(self.state.get(name) or {"rotation": self.requested(name)})

    # --- generating ----------------------------------------------------------------------

    async def generate(self, name: str, cause: str) -> Verdict | None:
        if cause == "lost":
            message = (
                f"Secret {self.secret_name} no longer holds {name} of {self.noun}. ARM never "
                "returns a token password again, so the operator generates a new one."
            )
            self.ctx.logger.warning(message)
            self.ctx.effects.post_event("Warning", "SecretLost", message)
        body: dict[str, Any] = {"tokenId": self.step.placement.path, "name": name}
        expiry = (self.config.get(name) or {}).get("expiry")
        if expiry:
            body["expiry"] = expiry
        path = outputs.action_path(GENERATE, self.step.placement.params)
        self.ctx.logger.info("Generating %s of %s (%s).", name, self.noun, cause)
        response = await self.ctx.client.request("POST", path, body=body)
        operation = begin_operation(
            "action", response.status, response.headers,
            now=self.ctx.now(), default_poll=self.ctx.settings.default_poll_seconds,
        )
        if operation is None:
            await self.accept(name, cause, response.body, rotation=self.requested(name))
            return None
        operation.update(password=name, cause=cause, rotation=self.requested(name))
        return await self.wait(operation, persist=True)

    async def follow(self, pending: dict) -> Verdict | None:
        """Poll the saved GenerateCredentials operation; None once it is over and written."""
        if seconds_until_poll(pending, now=self.ctx.now()) > 0:
            return await self.wait(pending, persist=False)  # woken early; the poll is not due
        result = await outputs.poll(self.ctx, pending)
        if result.state == "running":
            return await self.wait(result.operation, persist=False)
        self.state.pop("pending", None)
        name, cause = pending["password"], pending.get("cause", "create")
        if result.state == "succeeded":
            await self.accept(name, cause, result.body, rotation=int(pending.get("rotation", 0)))
            return None
        if result.state == "lost":
            # The polling URL expired, so that password cannot be read any more. It is
            # generated again below if it is still due.
            self.ctx.logger.info("The GenerateCredentials operation for %s is no longer known "
                                 "to ARM.", name)
            return None
        self.publish()
        error = result.error or {}
        code = error.get("code") or "OperationFailed"
        raise ArmError(
            f"GenerateCredentials for {name} ended {result.state}: {error.get('message') or code}",
            code=code,
        )

    async def wait(self, operation: dict, *, persist: bool) -> Verdict:
        self.state["pending"] = operation
        self.publish()
        if persist:
            # Written before the step returns, so a restart polls instead of generating again.
            await self.ctx.effects.patch_status(self.step.status)
        delay = seconds_until_poll(operation, now=self.ctx.now())
        self.step.request_delay(delay)
        name = operation["password"]
        return progressing(_REASONS.get(operation.get("cause"), "GeneratingPassword"), (
            f"Azure is generating {name} of {self.noun}; polling the operation again in "
            f"{delay:.0f} seconds."
        ))

    async def accept(self, name: str, cause: str, result: Any, *, rotation: int) -> None:
        """Take the password from a GenerateCredentials result and write it at once."""
        entry = _password_in(result, name)
        self.values[name] = entry["value"]
        username = result.get("username") if isinstance(result, dict) else None
        self.values["username"] = username or self.values.get("username") or self.token
        record = {
            "rotation": max(rotation, _rotation(self.record.get(name) or {})),
            "createdAt": entry.get("creationTime") or format_time(self.ctx.now()),
        }
        if entry.get("expiry"):
            record["expiry"] = entry["expiry"]
        self.record[name] = record
        self.known.add(name)
        await self.save()
        message = f"Generated {name} of {self.noun} and wrote it to Secret {self.secret_name}."
        self.ctx.logger.info(message)
        self.ctx.effects.post_event("Normal", _EVENTS[cause], message)

    # --- removing ------------------------------------------------------------------------

    async def remove(self, name: str) -> None:
        """Delete a disabled password from the token in Azure and from the Secret."""
        listed = _listed_passwords(self.step.observed)
        if any(p.get("name") == name for p in listed):
            kept = [{k: p[k] for k in _PASSWORD_FIELDS if k in p}
                    for p in listed if p.get("name") != name]
            # The same update that `az acr token credential delete` sends: the passwords
            # to keep. NOTE: that ARM keeps the token's certificates then is not confirmed.
            body = {"properties": {"credentials": {"passwords": kept}}}
            await self.ctx.client.request("PATCH", self.step.placement.path, body=body)
            message = f"Deleted {name} of {self.noun}, as spec.passwords.{name}.enabled is false."
            self.ctx.logger.info(message)
            self.ctx.effects.post_event("Normal", "PasswordDeleted", message)
        self.values.pop(name, None)
        self.record.pop(name, None)
        self.known.discard(name)

    # --- writing -------------------------------------------------------------------------

    async def save(self) -> None:
        """Write both Secrets from the values known now, and copy the record to status."""
        present = [name for name in NAMES if name in self.values]
        server = await self.login_server()
        pull = outputs.newest(self.record, present, stamp="createdAt", usable=self.usable)
        if pull is None and present:
            pull = outputs.newest(self.record, present, stamp="createdAt", usable=lambda _: True)
        await outputs.write(
            self.ctx.effects, self.secret_name,
            username=self.values.get("username") or self.token,
            server=server,
            passwords={name: self.values[name] for name in present},
            record={name: self.record[name] for name in present if name in self.record},
            pull=pull,
        )
        self.state.update(
            secretName=self.secret_name,
            dockerConfigSecretName=outputs.dockerconfig_name(self.secret_name),
            loginServer=server,
        )
        if pull is None:
            self.state.pop("dockerConfigPassword", None)
        else:
            self.state["dockerConfigPassword"] = pull
        for name in NAMES:
            if name in present and name in self.record:
                self.state[name] = dict(self.record[name])
            else:
                self.state.pop(name, None)
        self.publish()

    async def login_server(self) -> str:
        """Return the registry's login server: from status, else from a GET of the registry."""
        known = self.state.get("loginServer")
        if known:
            return known
        params = self.step.placement.params
        registry = descriptor_for("Registry")
        path = registry.arm_path({k: params[k] for k in
                                  ("subscriptionId", "resourceGroupName", registry.name_parameter)})
        response = await self.ctx.client.request("GET", path)
        server = ((response.body or {}).get("properties") or {}).get("loginServer")
        if not server:
            raise ArmError(f"The registry at {path} reports no loginServer.",
                           code="MissingLoginServer")
        return server

    def publish(self) -> None:
        self.step.status[STATUS_KEY] = copy.deepcopy(self.state)

    # --- spec ----------------------------------------------------------------------------

    def enabled(self, name: str) -> bool:
        return (self.config.get(name) or {}).get("enabled", True) is not False

    def requested(self, name: str) -> int:
        return int((self.config.get("rotation") or {}).get(name) or 0)

    def usable(self, name: str) -> bool:
        expiry = parse_time((self.record.get(name) or {}).get("expiry"))
        return name in self.values and (expiry is None or expiry > self.ctx.now())

    def expiry_verdict(self) -> Verdict | None:
        enabled = [name for name in NAMES if self.enabled(name) and name in self.values]
        if not enabled or any(self.usable(name) for name in enabled):
            return None
        return stalled("PasswordsExpired", (
            f"Every password of {self.noun} has expired. Set a later expiry in spec.passwords "
            "and raise a counter in spec.passwords.rotation to generate a new one."
        ))


def _rotation(entry: Mapping) -> int:
    try:
        return int(entry.get("rotation") or 0)
    except (TypeError, ValueError):
        return 0


def _password_in(result: Any, name: str) -> dict:
    """Return the entry for `name` of a GenerateCredentials result; raise if it has no value."""
    passwords = result.get("passwords") if isinstance(result, dict) else None
    for entry in passwords or ():
        if isinstance(entry, dict) and entry.get("name") == name and entry.get("value"):
            return entry
    raise ArmError(f"The GenerateCredentials result has no value for {name}.",
                   code="MissingPassword")


def _listed_passwords(observed: Mapping) -> list[dict]:
    credentials = (observed.get("properties") or {}).get("credentials") or {}
    return [p for p in credentials.get("passwords") or () if isinstance(p, dict)]
