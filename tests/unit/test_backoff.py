"""Retry and resync delays."""

from __future__ import annotations

from acr_operator.reconciler import backoff


def test_retry_after_is_a_floor():
    for value in (0.0, 0.5, 0.999):
        assert backoff.retry_delay(0, retry_after=30, rand=lambda v=value: v) >= 30
    assert backoff.retry_delay(5, retry_after=30, rand=lambda: 1.0) <= 30 * 1.1 + 0.5


def test_exponential_and_capped():
    delays = [backoff.retry_delay(n, rand=lambda: 0.0) for n in range(10)]
    assert delays[:4] == [5, 10, 20, 40]
    assert max(delays) == 300
    assert backoff.retry_delay(100, rand=lambda: 1.0) <= 330


def test_resync_jitter_is_at_most_ten_percent():
    assert backoff.resync_delay(600, rand=lambda: 0.0) == 600
    assert backoff.resync_delay(600, rand=lambda: 1.0) == 660


def test_wait_delay_is_short():
    assert backoff.wait_delay(0, rand=lambda: 0.0) == 5
    assert backoff.wait_delay(50, rand=lambda: 0.0) == 60
