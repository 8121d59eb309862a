"""ARM error types and the table that sorts ARM error codes into retry classes.

The reconciler never looks at raw HTTP responses: the client turns every
answer >= 400 and every network failure into one of the exceptions below.
What to do next depends on the *class* of the error, not its Python type:

- RETRYABLE: throttling, 5xx, network trouble, conflicts with an operation
  in flight, a parent that is not there yet. Retried after Retry-After or
  with capped backoff.
- USER: the request itself is wrong (a bad value, a name taken, a feature
  the SKU lacks). Sending it again cannot help, so the object is Stalled
  until its spec changes.
- BLOCKED: the request is fine but something outside the spec prevents it
  (role assignments, quota, provider registration, policy). The object is
  Stalled, and re-checked on the slow resync, because nobody edits the spec
  to fix those.
- NOT_FOUND: the resource is absent; what that means depends on the caller
  (create on GET, done on DELETE).

The Python types follow the HTTP status so that callers can write
`except ArmNotFound`; the class is carried in `classification`.
"""

from __future__ import annotations

import email.utils
import enum
import re
import time
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE = 600


class ErrorClass(enum.Enum):
    RETRYABLE = "retryable"
    USER = "user"
    BLOCKED = "blocked"
    NOT_FOUND = "not-found"


R, U, B, N = ErrorClass.RETRYABLE, ErrorClass.USER, ErrorClass.BLOCKED, ErrorClass.NOT_FOUND

# ARM error codes by retry class. Codes are compared case-insensitively.
# Codes not listed fall back on the HTTP status, see `classify`.
CODES: dict[str, ErrorClass] = {
    # Transient by nature.
    "TooManyRequests": R,
    "RequestThrottled": R,
    "InternalServerError": R,
    "ServiceUnavailable": R,
    "GatewayTimeout": R,
    "RequestTimeout": R,
    "ServerTimeout": R,
    "RetryableError": R,
    # Another write on the same resource is in flight; it ends on its own.
    "Conflict": R,
    "AnotherOperationInProgress": R,
    "OperationInProgress": R,
    "ResourceGroupBeingDeleted": R,
    # Something the request points at does not exist yet; it may be created soon
    # (the parent registry, the resource group, a scope map, an identity).
    "ParentResourceNotFound": R,
    "ResourceGroupNotFound": R,
    "InvalidResourceReference": R,
    "PrincipalNotFound": R,
    "FailedIdentityOperation": R,
    "ScopeMapNotFound": R,
    "TokenNotFound": R,
    "CredentialSetNotFound": R,
    "PipelineNotFound": R,
    # The resource itself is absent.
    "ResourceNotFound": N,
    "NotFound": N,
    # The request is wrong; only a spec change helps.
    "InvalidParameter": U,
    "InvalidRequestContent": U,
    "InvalidRequestFormat": U,
    "InvalidRequestParameter": U,
    "MissingRequiredParameter": U,
    "BadRequest": U,
    "BadRequestFormat": U,
    "InvalidResourceName": U,
    "InvalidResourceId": U,
    "LinkedInvalidPropertyId": U,
    "InvalidResourceLocation": U,
    "InvalidResourceType": U,
    "LocationNotAvailableForResourceType": U,
    "PropertyChangeNotAllowed": U,
    "InvalidTemplate": U,
    # The name belongs to someone else.
    "AlreadyExists": U,
    "AlreadyInUse": U,
    "NameNotAvailable": U,
    "RegistryNameNotAvailable": U,
    "RegistryNameAlreadyInUse": U,
    "ResourceNameNotAvailable": U,
    # The SKU lacks the feature (Premium-only settings such as replications,
    # private endpoints, zone redundancy, connected registries).
    # NOTE: these ACR codes are not confirmed from recorded traffic; an unlisted
    # 400 code is a user error anyway (see classify).
    "SkuNotSupported": U,
    "InvalidSku": U,
    "SkuNotAvailable": U,
    "FeatureNotSupported": U,
    "FeatureNotSupportedForSku": U,
    "NotSupportedForSku": U,
    "PremiumSkuRequired": U,
    "RegistrySkuNotSupported": U,
    "UnsupportedSku": U,
    # Fixed outside the spec: role assignments, quota, registration, policy, locks.
    "AuthorizationFailed": B,
    "LinkedAuthorizationFailed": B,
    "AuthenticationFailed": B,
    "InvalidAuthenticationToken": B,
    "InvalidAuthenticationTokenTenant": B,
    "ExpiredAuthenticationToken": B,
    "CredentialUnavailable": B,
    "MissingSubscriptionRegistration": B,
    "SubscriptionNotRegistered": B,
    "MissingRegistrationForLocation": B,
    "InvalidSubscriptionRegistrationState": B,
    "NoRegisteredProviderFound": B,
    "SubscriptionNotFound": B,
    "ReadOnlyDisabledSubscription": B,
    "ResourceQuotaExceeded": B,
    "QuotaExceeded": B,
    "OperationNotAllowed": B,
    "RequestDisallowedByPolicy": B,
    "ScopeLocked": B,
}
_CODES_FOLDED = {code.lower(): cls for code, cls in CODES.items()}
del R, U, B, N


def classify(status: int | None, code: str | None) -> ErrorClass:
    """The retry class of an ARM error from its code, else from its status.

    Unknown codes: a 5xx, 408, 409, 412 or 429 is retryable (the service's
    state, not the request, is at fault); a 401/403 is BLOCKED; a 404 is
    NOT_FOUND; any other 4xx is a USER error. The last point departs from
    Azure Service Operator, which retries unknown codes: a 400 says the
    request was refused for its content, and sending the same body again
    every few seconds only burns the subscription's write quota. The object
    is retried as soon as its spec changes.
    """
    if code:
        known = _CODES_FOLDED.get(code.lower())
        if known is not None:
            return known
    if status is None or status >= 500 or status in (408, 409, 412, 429):
        return ErrorClass.RETRYABLE
    if status in (401, 403):
        return ErrorClass.BLOCKED
    if status == 404:
        return ErrorClass.NOT_FOUND
    return ErrorClass.USER


class ArmError(Exception):
    """An ARM request failed: an error answer (status >= 400) or no answer at all.

    `code` and `message` come from ARM's `{"error": {"code", "message"}}`
    body, trimmed and with anything secret-looking removed, so they are safe
    to log, to post as an Event and to write into a condition. The original
    exception, if any, is kept as `__cause__`.
    """

    def __init__(
            self,
            message: str,
            *,
            status: int | None = None,
            code: str | None = None,
            target: str | None = None,
            retry_after: float | None = None,
            classification: ErrorClass | None = None,
    ) -> None:
        self.status = status
        self.code = code or _default_code(status)
        self.message = redact(message) or f"ARM answered HTTP {status} without a message"
        self.target = target
        self.retry_after = retry_after
        self.classification = classification or classify(status, code)
        super().__init__(self.describe())

    @property
    def retryable(self) -> bool:
        return self.classification is ErrorClass.RETRYABLE

    @property
    def stalls(self) -> bool:
        """True when only a person can fix it: a user error or a blocked request."""
        return self.classification in (ErrorClass.USER, ErrorClass.BLOCKED)

    def describe(self) -> str:
        where = f" (HTTP {self.status})" if self.status else ""
        return f"{self.code}{where}: {self.message}"


class ArmTransientError(ArmError):
    """5xx, timeouts and network failures; retried with backoff."""


class ArmThrottled(ArmTransientError):
    """429: ARM's request rate limit; retried after Retry-After."""


class ArmConflict(ArmError):
    """409: usually another operation in flight (retryable), sometimes a taken name (user)."""


class ArmUserError(ArmError):
    """A 4xx that sending again cannot fix; the object is Stalled."""


class ArmBlockedError(ArmUserError):
    """A 4xx that a person must fix outside the spec: access, quota, registration."""


class ArmNotFound(ArmError):
    """404: the resource (or its parent, see `code`) does not exist."""


def error_from_response(
        status: int,
        headers: Mapping[str, str],
        body: Any,
        *,
        now: float | None = None,
) -> ArmError:
    """Build the ArmError for an answer with status >= 400."""
    code, message, target = _parse_error_body(body)
    retry_after = parse_retry_after(headers, now=now)
    classification = classify(status, code)
    kwargs: dict[str, Any] = {
        "status": status, "code": code, "target": target,
        "retry_after": retry_after, "classification": classification,
    }
    if status == 404:
        return ArmNotFound(message, **kwargs)
    if status == 429:
        return ArmThrottled(message, **kwargs)
    if status == 409:
        return ArmConflict(message, **kwargs)
    if classification is ErrorClass.RETRYABLE:
        return ArmTransientError(message, **kwargs)
    if classification is ErrorClass.BLOCKED:
        return ArmBlockedError(message, **kwargs)
    return ArmUserError(message, **kwargs)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from `x-ms-retry-after-ms`, `retry-after-ms` or `Retry-After`.

    The millisecond headers win because they are more precise. Retry-After
    may be delta-seconds or an HTTP date. Returns None when none is present
    or parseable; never a negative number.
    """
    for name in ("x-ms-retry-after-ms", "retry-after-ms"):
        value = header(headers, name)
        if value is not None:
            try:
                return max(0.0, float(value) / 1000.0)
            except ValueError:
                pass
    value = header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header value by case-insensitive name, also for plain dicts.

    Recorded traffic spells headers in Go's canonical case (`Azure-Asyncoperation`).
    """
    value = headers.get(name)
    if value is not None:
        return value
    folded = name.lower()
    for key, value in headers.items():
        if key.lower() == folded:
            return value
    return None


# Patterns that can carry credentials in error messages that echo a request:
# bearer tokens, query strings of signed URLs, and JSON or key=value pairs
# whose name says secret.
_SECRET_PATTERNS = [
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*"), r"\1?[redacted]"),
    (
        re.compile(
            r"(?i)(\"?(?:password\w*|secret\w*|token|accessToken|refreshToken|serviceUri|"
            r"customHeaders|connectionString|key|sig|signature)\"?\s*[:=]\s*)"
            r"(\"[^\"]*\"|\{[^}]*\}|[^\s,;&]+)"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str | None) -> str:
    """The text trimmed to MAX_MESSAGE characters with secret-looking parts removed."""
    if not text:
        return ""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text


def _parse_error_body(body: Any) -> tuple[str | None, str, str | None]:
    # ARM wraps the error in {"error": {...}}; a few services answer the inner
    # object bare. The first detail is appended when the top level is generic.
    if not isinstance(body, dict):
        return None, body if isinstance(body, str) else "", None
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    target = error.get("target") if isinstance(error.get("target"), str) else None
    details = error.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        inner = details[0].get("message")
        if isinstance(inner, str) and inner and inner not in message:
            message = f"{message} ({inner})" if message else inner
    return code, message, target


def _default_code(status: int | None) -> str:
    if status is None:
        return "NetworkError"
    if status == 429:
        return "TooManyRequests"
    if status == 404:
        return "NotFound"
    if status >= 500:
        return "InternalServerError"
    return f"Http{status}"
