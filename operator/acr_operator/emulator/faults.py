"""Injected faults: canned error responses, dropped connections and failing operations.

A fault is posted to `/_emulator/faults` as
`{"match": {"method", "operationId", "pathContains"}, "count": 1, ...}` with one effect:

- `"status"` (with optional `"headers"` and `"body"`): respond with that error
  instead of serving the request, which then has no effect;
- `"drop": true`: close the connection without a response;
- `"operationStatus": "Failed"`: let the request run, but make the next
  asynchronous long-running operation it starts end Failed, with the error
  in `"body"` (default InternalServerError) and, for Location-style polls,
  the HTTP status in `"status"` (default 500).

Every key of `match` is optional and all given ones must fit. `count` is how
many requests the fault applies to (default 1); `null` keeps it forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The error code ARM sends with each status that tests commonly inject.
_DEFAULT_CODES = {
    429: ("TooManyRequests", "The request was throttled; retry after the interval in Retry-After."),
    500: ("InternalServerError", "The server hit an injected internal error."),
    502: ("BadGateway", "The gateway received an injected bad answer."),
    503: ("ServiceUnavailable", "The service is unavailable because of an injected fault."),
    504: ("GatewayTimeout", "The gateway timed out because of an injected fault."),
}


@dataclass
class Fault:
    method: str | None = None
    operation_id: str | None = None
    path_contains: str | None = None
    count: int | None = 1
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict | None = None
    drop: bool = False
    operation_status: str | None = None

    def matches(self, method: str, operation_id: str | None, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.operation_id and self.operation_id != operation_id:
            return False
        return not self.path_contains or self.path_contains.lower() in path.lower()

    def error_body(self) -> dict:
        if self.body is not None:
            return self.body
        code, message = _DEFAULT_CODES.get(
            self.status or 500, ("InjectedFault", "The emulator answered with an injected fault."))
        return {"error": {"code": code, "message": message}}

    def to_json(self) -> dict:
        doc: dict = {"match": {}, "count": self.count}
        for name, value in (("method", self.method), ("operationId", self.operation_id),
                            ("pathContains", self.path_contains)):
            if value:
                doc["match"][name] = value
        for name, value in (("status", self.status), ("body", self.body),
                            ("operationStatus", self.operation_status)):
            if value is not None:
                doc[name] = value
        if self.headers:
            doc["headers"] = self.headers
        if self.drop:
            doc["drop"] = True
        return doc


def parse(doc: dict) -> Fault:
    """Build a fault from its control-API form; raises ValueError or TypeError with the reason."""
    if not isinstance(doc, dict):
        raise TypeError("a fault is a JSON object")
    match = doc.get("match") or {}
    if not isinstance(match, dict):
        raise TypeError("match must be an object")
    fault = Fault(
        method=match.get("method"),
        operation_id=match.get("operationId"),
        path_contains=match.get("pathContains"),
        count=doc.get("count", 1),
        status=doc.get("status"),
        headers={str(k): str(v) for k, v in (doc.get("headers") or {}).items()},
        body=doc.get("body"),
        drop=bool(doc.get("drop", False)),
        operation_status=doc.get("operationStatus"),
    )
    _check(fault)
    return fault


def _check(fault: Fault) -> None:
    if fault.count is not None and (not isinstance(fault.count, int) or fault.count < 1):
        raise ValueError("count must be a whole number of 1 or more, or null for no limit")
    effects = [fault.drop, fault.operation_status is not None,
               fault.status is not None and fault.operation_status is None]
    if sum(effects) != 1:
        raise ValueError('a fault needs exactly one effect: "status", "drop" or "operationStatus"')
    if fault.operation_status not in (None, "Failed", "Canceled"):
        raise ValueError('operationStatus must be "Failed" or "Canceled"')
    if fault.status is not None and not (isinstance(fault.status, int) and 400 <= fault.status < 600):
        raise ValueError("status must be an HTTP error status between 400 and 599")
    if fault.body is not None and not isinstance(fault.body, dict):
        raise ValueError("body must be a JSON object")


class Faults:
    """The active faults, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict]:
        return [f.to_json() for f in self._faults]

    def take_response(self, method: str, operation_id: str | None, path: str) -> Fault | None:
        """Use up the first status or drop fault that fits the request."""
        return self._take(lambda f: f.operation_status is None, method, operation_id, path)

    def take_operation(self, method: str, operation_id: str | None, path: str) -> Fault | None:
        """Use up the first operationStatus fault that fits the request starting an operation."""
        return self._take(lambda f: f.operation_status is not None, method, operation_id, path)

    def _take(self, kind, method: str, operation_id: str | None, path: str) -> Fault | None:
        for fault in self._faults:
            if kind(fault) and fault.matches(method, operation_id, path):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None
