"""Registry admin credentials: exported to Secrets that the user names, rotated on request.

Unlike token passwords, ARM returns the admin passwords at any time
(ListCredentials), so the export reads them on every reconcile of a Ready
registry and keeps the Secret in line, even after a rotation made in the
portal. A rotation (RegenerateCredential) happens only when a counter in
spec.adminCredentials.rotation is above the one recorded on the Secret, one
password per request, and the Secret is written after each one. A crash
after a RegenerateCredential and before the Secret write regenerates that
password once more after the restart, which costs nothing because ARM
returns the new value again.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from acr_operator.arm.errors import ArmError
from acr_operator.arm.lro import format_time
from acr_operator.reconciler import outputs
from acr_operator.reconciler.conditions import Verdict, stalled
from acr_operator.reconciler.context import SecretConflict
from acr_operator.reconciler.extras import Step

SPEC_FIELD = "adminCredentials"
STATUS_KEY = "adminCredentials"
NAMES = ("password", "password2")
LIST = "Registries_ListCredentials"
REGENERATE = "Registries_RegenerateCredential"


def secret_names(spec: Mapping) -> tuple[str, ...]:
    """Return the Secrets that spec.adminCredentials writes, so a change to them wakes the registry."""
    config = spec.get(SPEC_FIELD) or {}
    return outputs.secret_names(config.get("secretName"))


async def export_admin_credentials(step: Step) -> Verdict | None:
    """Rotate the admin passwords that are due, and write the admin login to the named Secrets.

    A hook (see `extras`): does nothing without spec.adminCredentials.
    """
    config = step.spec.get(SPEC_FIELD)
    if not isinstance(config, dict) or not config.get("secretName"):
        step.status.pop(STATUS_KEY, None)
        return None
    if not (step.observed.get("properties") or {}).get("adminUserEnabled"):
        return outputs.announce(step, stalled("AdminUserDisabled", (
            "spec.adminCredentials needs the admin user: set "
            "spec.properties.adminUserEnabled to true, or remove spec.adminCredentials."
        )))
    try:
        return await _export(step, config)
    except SecretConflict as conflict:
        return outputs.announce(step, stalled(conflict.reason, (
            f"{conflict.message}. Delete that Secret, or set another "
            "spec.adminCredentials.secretName."
        )))


async def _export(step: Step, config: dict) -> None:
    ctx = step.ctx
    secret_name = config["secretName"]
    record = outputs.record_of(await ctx.effects.read_owned_secret(secret_name))
    if not record:
        # A Secret deleted by someone keeps its rotation counts in status.
        known = step.status.get(STATUS_KEY) or {}
        record = {name: dict(known[name]) for name in NAMES if isinstance(known.get(name), dict)}
    rotation = config.get("rotation") or {}
    answer = None
    for name in NAMES:
        requested = int(rotation.get(name) or 0)
        entry = record.get(name)
        if entry is None or requested <= int(entry.get("rotation") or 0):
            continue
        path = outputs.action_path(REGENERATE, step.placement.params)
        ctx.logger.info("Regenerating the admin %s of the registry.", name)
        answer = (await ctx.client.request("POST", path, body={"name": name})).body
        record[name] = {"rotation": requested, "regeneratedAt": format_time(ctx.now())}
        await _save(step, secret_name, answer, record)
        message = f"Regenerated the admin {name} and wrote it to Secret {secret_name}."
        ctx.logger.info(message)
        ctx.effects.post_event("Normal", "PasswordRotated", message)
    if answer is None:
        path = outputs.action_path(LIST, step.placement.params)
        answer = (await ctx.client.request("POST", path)).body
    for name in NAMES:
        record.setdefault(name, {"rotation": int(rotation.get(name) or 0)})
    await _save(step, secret_name, answer, record)


async def _save(step: Step, secret_name: str, answer: object, record: dict) -> None:
    """Write both Secrets from a ListCredentials (or RegenerateCredential) result."""
    username, passwords = _credentials_in(answer)
    server = (step.observed.get("properties") or {}).get("loginServer")
    if not server:
        raise ArmError("The registry reports no loginServer.", code="MissingLoginServer")
    written = {name: record[name] for name in NAMES if name in record and name in passwords}
    pull = outputs.newest(written, list(passwords), stamp="regeneratedAt",
                          usable=lambda name: name in NAMES)
    await outputs.write(
        step.ctx.effects, secret_name, username=username, server=server,
        passwords={name: passwords[name] for name in NAMES if name in passwords},
        record=written, pull=pull,
    )
    state = {
        "secretName": secret_name,
        "dockerConfigSecretName": outputs.dockerconfig_name(secret_name),
        **{name: copy.deepcopy(entry) for name, entry in written.items()},
    }
    if pull is not None:
        state["dockerConfigPassword"] = pull
    step.status[STATUS_KEY] = state


def _credentials_in(answer: object) -> tuple[str, dict[str, str]]:
    """Return the username and the passwords by name of a ListCredentials result."""
    if not isinstance(answer, dict) or not answer.get("username"):
        raise ArmError("The ListCredentials result has no username.", code="MissingPassword")
    passwords = {
        entry["name"]: entry["value"]
        for entry in answer.get("passwords") or ()
        if isinstance(entry, dict) and entry.get("name") in NAMES and entry.get("value")
    }
    if not passwords:
        raise ArmError("The ListCredentials result has no passwords.", code="MissingPassword")
    return answer["username"], passwords
