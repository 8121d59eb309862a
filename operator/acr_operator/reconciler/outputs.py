"""Credential exports: the two Secrets that one export writes, and the record kept on them.

A credential export (a token's passwords, a registry's admin user) writes
two Secrets in the object's namespace, named by the user in spec:

- `<secretName>`, type Opaque: `username`, `loginServer` and one entry per
  password. Its annotation `acr-operator.dev/credentials` contains the
  record, a JSON object without values: which rotation each password
  satisfies and when it was made. The record is written in the same request
  as the values, so after a crash the Secret itself shows what was written.
- `<secretName>-dockerconfig`, type kubernetes.io/dockerconfigjson: a login
  to the login server with the newest valid password, for imagePullSecrets.

Two Secrets rather than one: a dockerconfigjson Secret is what pods and
tools expect for pulls, and an Opaque one with plain keys is what env vars
and `docker login` scripts expect.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

from acr_operator import apimodel
from acr_operator.arm.errors import ArmError
from acr_operator.arm.lro import PollResult, evaluate_poll, evaluate_poll_error
from acr_operator.reconciler import kubesecrets
from acr_operator.reconciler.conditions import READY, Verdict, find
from acr_operator.reconciler.context import Context, Effects, OwnedSecret
from acr_operator.reconciler.extras import Step

RECORD_ANNOTATION = "acr-operator.dev/credentials"
DOCKERCONFIG_SUFFIX = "-dockerconfig"


def dockerconfig_name(secret_name: str) -> str:
    """Return the name of the dockerconfigjson Secret that goes with `secret_name`."""
    return f"{secret_name}{DOCKERCONFIG_SUFFIX}"


def secret_names(secret_name: str | None) -> tuple[str, ...]:
    """Return both Secrets of an export, or () when no Secret is named."""
    return (secret_name, dockerconfig_name(secret_name)) if secret_name else ()


def record_of(secret: OwnedSecret | None) -> dict[str, dict]:
    """Return the record annotation of `secret`; {} when absent or unreadable."""
    if secret is None:
        return {}
    try:
        record = json.loads(secret.annotations.get(RECORD_ANNOTATION) or "{}")
    except ValueError:
        return {}
    if not isinstance(record, dict):
        return {}
    return {name: entry for name, entry in record.items() if isinstance(entry, dict)}


async def write(
        effects: Effects,
        secret_name: str,
        *,
        username: str,
        server: str,
        passwords: Mapping[str, str],
        record: Mapping[str, Mapping],
        pull: str | None,
) -> bool:
    """Write both Secrets of an export; return True when either changed.

    `pull` names the password that the dockerconfigjson Secret logs in with.
    The Opaque Secret goes first: it is the one that a restart reads back.
    """
    data = {"username": username, "loginServer": server, **passwords}
    annotations = {RECORD_ANNOTATION: json.dumps(record, sort_keys=True)}
    wrote = await effects.apply_secret(secret_name, string_data=data, annotations=annotations)
    if pull is None or pull not in passwords:
        return wrote
    login = kubesecrets.dockerconfigjson(server, username, passwords[pull])
    wrote_pull = await effects.apply_secret(
        dockerconfig_name(secret_name),
        string_data={kubesecrets.DOCKERCONFIG_KEY: login},
        type=kubesecrets.DOCKERCONFIG_TYPE,
    )
    return wrote or wrote_pull


def newest(
        record: Mapping[str, Mapping],
        names: Iterable[str],
        *,
        stamp: str,
        usable: Callable[[str], bool],
) -> str | None:
    """Return the usable password made last, by the record's `stamp` time; None if none is.

    On a tie (both made by one request, or times unknown) the later name
    wins, so a fresh export logs in with the second password and the first
    one is the one to rotate.
    """
    candidates = [name for name in names if usable(name)]
    if not candidates:
        return None
    return max(candidates, key=lambda name: (str(record.get(name, {}).get(stamp) or ""), name))


def announce(step: Step, verdict: Verdict) -> Verdict:
    """Log `verdict` and post it as a Warning Event when its reason is new; return it.

    A refusal repeats on every resync, so only a change of the Ready reason is reported.
    """
    previous = find(step.status.get("conditions"), READY) or {}
    if previous.get("reason") != verdict.reason:
        step.ctx.logger.warning("%s", verdict.message)
        step.ctx.effects.post_event("Warning", verdict.reason, verdict.message)
    return verdict


def action_path(operation_id: str, params: Mapping[str, str]) -> str:
    """Return the ARM path of an action of api.json, filled from a resource's path parameters."""
    path = apimodel.operation(operation_id)["path"]
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    if "{" in path:
        raise KeyError(f"path parameters missing for {operation_id}: have {sorted(params)}")
    return path


async def poll(ctx: Context, operation: dict, *, now: datetime.datetime | None = None) -> PollResult:
    """Poll a saved operation once and evaluate ARM's response.

    `now` is the time the step started, so that one step uses one clock reading; it
    defaults to the clock's current time.
    """
    default = ctx.settings.default_poll_seconds
    now = now or ctx.now()
    try:
        response = await ctx.client.request("GET", operation["url"])
    except ArmError as error:
        return evaluate_poll_error(operation, error, now=now, default_poll=default)
    return evaluate_poll(
        operation, response.status, response.headers, response.body,
        now=now, default_poll=default,
    )
