"""Time for the emulator: an injectable clock and ARM's timestamp format.

Long-running operations finish when the clock passes their due time, so
unit tests pass a `ManualClock` and move it instead of sleeping.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

_FRACTION = re.compile(r"\.\d+")

Clock = Callable[[], float]
"""Returns seconds since the epoch, like `time.time`."""


class ManualClock:
    """A clock that moves only when `advance` is called."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def arm_timestamp(seconds: float) -> str:
    """Format as ARM's systemData does: seven fraction digits and `+00:00`."""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 10:07d}+00:00"


def rfc3339(seconds: float) -> str:
    """Format for the request log: UTC with a `Z` suffix and milliseconds."""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 timestamp; None when it does not parse."""
    # Python accepts at most six fraction digits; ARM sends seven.
    cleaned = _FRACTION.sub(lambda m: m.group(0)[:7], text.strip().replace("Z", "+00:00"))
    try:
        moment = datetime.datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
