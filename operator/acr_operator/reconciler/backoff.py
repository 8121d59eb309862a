"""How long to wait before the next reconcile of an object.

The HTTP client never retries, so every delay is chosen here: ARM's
Retry-After when it gave one (never less), capped exponential backoff when
it did not, and the resync interval when all is well. Every delay carries
a little jitter, so a thousand objects created by one `kubectl apply` do
not hit ARM in the same second again and again.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_SECONDS = 5.0
MAX_SECONDS = 300.0
JITTER = 0.1

# While waiting for a parent, a reference or a Secret: their own changes wake
# the object early (see handlers), so this is only the fallback.
WAIT_BASE_SECONDS = 5.0
WAIT_MAX_SECONDS = 60.0

Random = Callable[[], float]


def retry_delay(
        attempt: int,
        *,
        retry_after: float | None = None,
        base: float = BASE_SECONDS,
        cap: float = MAX_SECONDS,
        rand: Random = random.random,
) -> float:
    """Seconds before retry number `attempt` (0 for the first retry).

    With a Retry-After the delay is at least that long (plus up to 10 %);
    without, it is base * 2**attempt, capped, plus up to 10 %.
    """
    if retry_after is not None:
        return max(0.0, retry_after) * (1 + JITTER * rand()) + (rand() * 0.5)
    exponential = base * (2 ** min(max(attempt, 0), 20))
    return min(cap, exponential) * (1 + JITTER * rand())


def wait_delay(attempt: int, *, rand: Random = random.random) -> float:
    """Seconds before looking again for a parent, reference or Secret that is missing."""
    return retry_delay(attempt, base=WAIT_BASE_SECONDS, cap=WAIT_MAX_SECONDS, rand=rand)


def resync_delay(interval: float, *, rand: Random = random.random) -> float:
    """The resync interval with up to 10 % added, so resyncs spread out over time."""
    return interval * (1 + JITTER * rand())
