"""The log of ARM requests served, read by tests through `/_emulator/requests`.

Tests assert on what the operator sent (that a resync wrote nothing, that a
PATCH carried only the changed field), so each entry keeps the method,
path, query, matched operation, response status and the request body. Secret
values in bodies are replaced by `<redacted>` before they are stored, so
the log can be printed in a failing test without leaking them. Control-API
requests are not logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acr_operator.emulator.clock import Clock, rfc3339

REDACTED = "<redacted>"

# Keys whose whole value is secret wherever they appear in a body.
_SECRET_KEYS = re.compile(
    r"^(serviceUri|customHeaders|password|secret|clientSecret|sasToken|accessKey|"
    r"connectionString|encodedPemCertificate)$",
    re.IGNORECASE,
)


def redact(value: object) -> object:
    """Copy a JSON value, replacing secret-looking fields by `<redacted>`."""
    if isinstance(value, list):
        return [redact(item) for item in value]
    if not isinstance(value, dict):
        return value
    # A {"name": "password1", "value": "..."} pair keeps its secret in "value".
    named_password = "password" in str(value.get("name", "")).lower()
    cleaned = {}
    for name, item in value.items():
        secret = _SECRET_KEYS.match(name) or (named_password and name == "value")
        cleaned[name] = REDACTED if secret else redact(item)
    return cleaned


@dataclass
class LogEntry:
    seq: int
    time: str
    method: str
    path: str
    query: dict[str, str]
    operation_id: str | None = None
    status: int | None = None
    body: object = None
    # ARM's error code when the reply was an error, so tests can compare it with a condition reason.
    error_code: str | None = None

    def to_json(self) -> dict:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operationId": self.operation_id,
            "status": self.status,
            "body": self.body,
            "errorCode": self.error_code,
        }


class RequestLog:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: list[LogEntry] = []
        self._seq = 0

    def begin(self, method: str, path: str, query: dict[str, str], body: object) -> LogEntry:
        """Record a request as it arrives; the caller fills in the outcome."""
        self._seq += 1
        entry = LogEntry(self._seq, rfc3339(self._clock()), method, path, query, body=redact(body))
        self._entries.append(entry)
        return entry

    def list(self) -> list[dict]:
        return [e.to_json() for e in self._entries]

    def clear(self) -> None:
        # Numbering goes on, so a test can tell old entries from new ones.
        self._entries.clear()
