"""Operator settings, read once from the environment.

Every knob of the operator is an `ACR_OPERATOR_*` environment variable, so
the same image runs against Azure, against the emulator in tests, and in a
Helm release without a config file. `Settings.from_env()` validates them
all at start-up; a bad value stops the operator with a message that names
the variable, the value and the fix, instead of failing later inside a
reconcile.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import pydantic

DEFAULT_ENDPOINT = "https://management.azure.com"
DEFAULT_AUDIENCE = "https://management.azure.com/.default"

_PREFIX = "ACR_OPERATOR_"
_SUBSCRIPTION = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value the operator cannot run with."""


class Settings(pydantic.BaseModel):
    """The operator's configuration; immutable once read.

    Field names are the variable names without the `ACR_OPERATOR_` prefix,
    lower-cased. The static token is held as a `SecretStr` so that no repr,
    log line or error message ever shows it.
    """

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    arm_endpoint: str = DEFAULT_ENDPOINT
    arm_audience: str = DEFAULT_AUDIENCE
    subscription_id: str | None = None
    credential: Literal["default", "static-token"] = "default"
    static_token: pydantic.SecretStr | None = None
    namespaces: tuple[str, ...] = ()
    resync_seconds: float = 600.0
    default_poll_seconds: float = 10.0
    allow_http: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every `ACR_OPERATOR_*` variable.

        Unset and empty variables take their defaults. Raises SettingsError
        naming the variable at fault.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in cls.model_fields:
            raw = env.get(_PREFIX + field.upper())
            if raw is not None and raw.strip() != "":
                values[field] = _parse(field, raw.strip())
        try:
            settings = cls(**values)
        except pydantic.ValidationError as exc:
            raise SettingsError(_describe(exc)) from None
        settings.check()
        return settings

    @property
    def watches_cluster(self) -> bool:
        """True when no namespace list was given: the operator watches all of them."""
        return not self.namespaces

    def check(self) -> None:
        """Validate the combinations of settings; raise SettingsError on the first fault."""
        self._check_endpoint()
        if self.subscription_id is not None and not _SUBSCRIPTION.match(self.subscription_id):
            raise SettingsError(
                f"ACR_OPERATOR_SUBSCRIPTION_ID={self.subscription_id!r} is not a subscription "
                "id; set it to the GUID of the Azure subscription, "
                "e.g. 00000000-0000-0000-0000-000000000000, or leave it unset."
            )
        if self.credential == "static-token" and not self.static_token:
            raise SettingsError(
                "ACR_OPERATOR_CREDENTIAL='static-token' needs ACR_OPERATOR_STATIC_TOKEN; "
                "set it to the bearer token the emulator accepts, or use "
                "ACR_OPERATOR_CREDENTIAL=default for Azure."
            )
        for namespace in self.namespaces:
            if not _NAMESPACE.match(namespace) or len(namespace) > 63:
                raise SettingsError(
                    f"ACR_OPERATOR_NAMESPACES contains {namespace!r}, which is not a namespace "
                    "name; give a comma-separated list such as 'team-a,team-b', or leave it "
                    "unset to watch every namespace."
                )
        for name in ("resync_seconds", "default_poll_seconds"):
            if getattr(self, name) <= 0:
                raise SettingsError(
                    f"ACR_OPERATOR_{name.upper()}={getattr(self, name)!r} must be a positive "
                    "number of seconds."
                )

    def _check_endpoint(self) -> None:
        parts = urlsplit(self.arm_endpoint)
        variable = f"ACR_OPERATOR_ARM_ENDPOINT={self.arm_endpoint!r}"
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise SettingsError(
                f"{variable} is not an absolute URL; set it to https://management.azure.com "
                "(or the emulator's http://127.0.0.1:PORT)."
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise SettingsError(
                f"{variable} must be a bare scheme://host[:port] without a path or query."
            )
        # A bearer token sent over plain http can be read on the wire. Only the
        # emulator's fake token may travel that way off this machine, and only when asked for.
        remote_http = parts.scheme == "http" and not is_loopback(parts.hostname)
        if remote_http and not (self.allow_http and self.credential == "static-token"):
            raise SettingsError(
                f"{variable} uses plain http to a host that is not loopback; use https, "
                "or set ACR_OPERATOR_ALLOW_HTTP=true together with "
                "ACR_OPERATOR_CREDENTIAL=static-token for an emulator on another host."
            )

    @property
    def uses_http(self) -> bool:
        """Whether the (validated) ARM endpoint is plain http: loopback or explicitly allowed."""
        return urlsplit(self.arm_endpoint).scheme == "http"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where http cannot be sniffed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parse(field: str, raw: str) -> object:
    variable = _PREFIX + field.upper()
    annotation = Settings.model_fields[field].annotation
    if field == "namespaces":
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if annotation is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{variable}={raw!r} is not a boolean; use true or false.")
    if annotation is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(
                f"{variable}={raw!r} is not a number; give seconds, e.g. {variable}=30."
            ) from None
    if field == "arm_endpoint":
        return raw.rstrip("/")
    return raw


def _describe(exc: pydantic.ValidationError) -> str:
    # Only the first error is reported: one fix at a time reads better in a crash log.
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "?"
    variable = _PREFIX + field.upper()
    if field == "static_token":
        return f"{variable} is invalid: {error['msg']}."
    value = error.get("input")
    if field == "credential":
        return (
            f"{variable}={value!r} is not a known credential mode; "
            "use 'default' (Azure: environment, workload identity, managed identity) "
            "or 'static-token' (the emulator)."
        )
    return f"{variable}={value!r} is invalid: {error['msg']}."
