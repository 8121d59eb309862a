"""kstatus conditions: statuses per verdict, and transition times that move only on a flip."""

from __future__ import annotations

import datetime

import pytest

from acr_operator.reconciler.conditions import (
    Verdict,
    apply_verdict,
    find,
    is_true,
    progressing,
    ready,
    stalled,
)

T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)


def _statuses(conditions):
    return {c["type"]: c["status"] for c in conditions}


def test_verdicts_map_onto_the_three_conditions():
    assert _statuses(apply_verdict([], ready("Succeeded", "ok"), generation=1, now=T0)) == {
        "Ready": "True", "Reconciling": "False", "Stalled": "False"}
    assert _statuses(apply_verdict([], progressing("Creating", "m"), generation=1, now=T0)) == {
        "Ready": "False", "Reconciling": "True", "Stalled": "False"}
    assert _statuses(apply_verdict([], stalled("InvalidParameter", "m"), generation=1, now=T0)) == {
        "Ready": "False", "Reconciling": "False", "Stalled": "True"}


def test_every_condition_carries_reason_message_and_generation():
    for condition in apply_verdict([], stalled("AlreadyExists", "taken"), generation=3, now=T0):
        assert condition["reason"] == "AlreadyExists"
        assert condition["message"] == "taken"
        assert condition["observedGeneration"] == 3
        assert condition["lastTransitionTime"] == "2026-01-01T12:00:00Z"


def test_transition_time_moves_only_when_the_status_flips():
    first = apply_verdict([], progressing("Creating", "m"), generation=1, now=T0)
    same = apply_verdict(first, progressing("Creating", "later"), generation=1, now=T1)
    assert find(same, "Ready")["lastTransitionTime"] == "2026-01-01T12:00:00Z"
    flipped = apply_verdict(same, ready("Succeeded", "ok"), generation=1, now=T1)
    assert find(flipped, "Ready")["lastTransitionTime"] == "2026-01-01T12:05:00Z"
    assert find(flipped, "Stalled")["lastTransitionTime"] == "2026-01-01T12:00:00Z"
    assert is_true(flipped, "Ready")


def test_foreign_conditions_are_kept():
    other = {"type": "Custom", "status": "True"}
    result = apply_verdict([other], ready("Succeeded", "ok"), generation=1, now=T0)
    assert other in result


def test_a_verdict_needs_words():
    with pytest.raises(ValueError):
        Verdict("True", "", "m")
    with pytest.raises(ValueError):
        Verdict("Maybe", "R", "m")
