"""Run-time switches of the emulator, readable and settable through the control API.

Tests flip between synchronous and asynchronous long-running operations and
shorten their durations, so these values live in one mutable object that
the request handlers read on every request instead of at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

# recorded: as the recorded Azure traffic (registry writes synchronous, child creates
# with Azure-AsyncOperation, deletes and actions with Location);
# sync: every write completes in its first response;
# async: every write, registry ones included, is polled.
LRO_MODES = ("recorded", "sync", "async")

# JSON name in the control API -> attribute name.
_FIELDS = {
    "lro": "lro",
    "operationSeconds": "operation_seconds",
    "retryAfter": "retry_after",
    "pageSize": "page_size",
}


@dataclass
class Options:
    lro: str = "recorded"
    # Long enough that a client honouring Retry-After 10 gets one "Creating" poll
    # before "Succeeded", as in the recorded replication creates.
    operation_seconds: float = 15.0
    # Seconds, as the Retry-After header ARM sends on every recorded poll.
    retry_after: int = 10
    # Items per list page; ARM pages differ per resource provider.
    page_size: int = 100
    # When set, the only bearer token accepted; any token otherwise.
    token: str | None = None

    def to_json(self) -> dict:
        return {name: getattr(self, attr) for name, attr in _FIELDS.items()}

    def update(self, changes: dict) -> None:
        """Apply a partial `{"lro", "operationSeconds", "retryAfter", "pageSize"}` object.

        Raises ValueError or TypeError naming the first bad field; nothing changes then.
        """
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(_FIELDS)}")
        checked = {_FIELDS[name]: _check(name, value) for name, value in changes.items()}
        for attr, value in checked.items():
            setattr(self, attr, value)


def _check(name: str, value: object) -> object:
    if name == "lro":
        if value not in LRO_MODES:
            raise ValueError(f"lro must be one of {', '.join(LRO_MODES)}, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {value!r}")
    if name == "operationSeconds":
        if value < 0:
            raise ValueError(f"operationSeconds must be 0 or more, not {value}")
        return float(value)
    if name == "retryAfter":
        if value < 0 or value != int(value):
            raise ValueError(f"retryAfter must be a whole number of seconds, not {value}")
        return int(value)
    if value < 1 or value != int(value):
        raise ValueError(f"pageSize must be a whole number of 1 or more, not {value}")
    return int(value)
