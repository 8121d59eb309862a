"""Long-running operation records and polls, both styles, as recorded traffic spells them."""

from __future__ import annotations

import datetime

from acr_operator.arm.errors import ArmNotFound, ArmTransientError, ArmUserError
from acr_operator.arm.lro import (
    begin_operation,
    evaluate_poll,
    evaluate_poll_error,
    format_time,
    parse_time,
    seconds_until_poll,
)

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
ASYNC_URL = "https://management.azure.com/x/operationStatuses/y?api-version=2025-11-01&t=1&c=2"
LOCATION_URL = "https://management.azure.com/x/locations/westus/operationResults/z?api-version=1"


def _begin(status, headers, kind="create"):
    return begin_operation(kind, status, headers, now=NOW, default_poll=10)


def test_go_canonical_azure_asyncoperation_header_starts_an_operation():
    op = _begin(201, {"Azure-Asyncoperation": ASYNC_URL, "Retry-After": "10"})
    assert op == {
        "kind": "create", "url": ASYNC_URL, "style": "azure-async-operation",
        "startedAt": "2026-01-01T12:00:00Z", "nextPollAt": "2026-01-01T12:00:10Z",
    }


def test_azure_asyncoperation_is_preferred_over_location():
    op = _begin(202, {"Location": LOCATION_URL, "azure-asyncoperation": ASYNC_URL})
    assert op["style"] == "azure-async-operation"
    assert op["url"] == ASYNC_URL


def test_location_style_for_deletes():
    op = _begin(202, {"Location": LOCATION_URL, "Retry-After": "3"}, kind="delete")
    assert op["style"] == "location"
    assert op["nextPollAt"] == "2026-01-01T12:00:03Z"


def test_synchronous_answers_start_nothing():
    assert _begin(200, {"Azure-AsyncOperation": ASYNC_URL}) is None
    assert _begin(204, {}) is None
    assert _begin(201, {}) is None


def test_poll_delay_defaults_and_clamps():
    assert _begin(201, {"Azure-AsyncOperation": ASYNC_URL})["nextPollAt"] == "2026-01-01T12:00:10Z"
    zero = _begin(201, {"Azure-AsyncOperation": ASYNC_URL, "Retry-After": "0"})
    assert zero["nextPollAt"] == "2026-01-01T12:00:01Z"
    huge = _begin(201, {"Azure-AsyncOperation": ASYNC_URL, "Retry-After": "86400"})
    assert huge["nextPollAt"] == "2026-01-01T12:05:00Z"


def _async_op():
    return _begin(201, {"Azure-AsyncOperation": ASYNC_URL})


def _poll(op, status, headers, body):
    return evaluate_poll(op, status, headers, body, now=NOW, default_poll=10)


def test_async_status_values():
    op = _async_op()
    for running in ("InProgress", "Creating", "Updating", "Deleting", "Accepted"):
        result = _poll(op, 200, {"Retry-After": "5"}, {"status": running})
        assert result.state == "running" and not result.done
        assert result.operation["nextPollAt"] == "2026-01-01T12:00:05Z"
    assert _poll(op, 200, {}, {"status": "Succeeded"}).state == "succeeded"
    failed = _poll(op, 200, {}, {"status": "Failed", "error": {"code": "Bad", "message": "m"}})
    assert failed.state == "failed"
    assert failed.error == {"code": "Bad", "message": "m"}
    canceled = _poll(op, 200, {}, {"status": "Canceled"})
    assert canceled.state == "canceled"
    assert canceled.error["code"] == "Canceled"


def test_location_status_codes():
    op = _begin(202, {"Location": LOCATION_URL}, kind="delete")
    running = _poll(op, 202, {"Location": LOCATION_URL + "&next=1"}, None)
    assert running.state == "running"
    assert running.operation["url"].endswith("&next=1")
    for done in (200, 201, 204):
        assert _poll(op, done, {}, None).state == "succeeded"
    result = _poll(op, 200, {}, {"username": "u"})
    assert result.body == {"username": "u"}


def _poll_error(op, error):
    return evaluate_poll_error(op, error, now=NOW, default_poll=10)


def test_404_ends_a_delete_and_loses_anything_else():
    gone = ArmNotFound("gone", status=404, code="ResourceNotFound")
    delete = _begin(202, {"Location": LOCATION_URL}, kind="delete")
    assert _poll_error(delete, gone).state == "succeeded"
    assert _poll_error(_async_op(), gone).state == "lost"


def test_transient_poll_errors_keep_polling_and_user_errors_fail():
    slow = _poll_error(_async_op(), ArmTransientError("x", status=503, retry_after=20))
    assert slow.state == "running"
    assert slow.operation["nextPollAt"] == "2026-01-01T12:00:20Z"
    failed = _poll_error(_async_op(), ArmUserError("no", status=400, code="InvalidParameter"))
    assert failed.state == "failed"
    assert failed.error["code"] == "InvalidParameter"


def test_times_round_trip():
    assert parse_time(format_time(NOW)) == NOW
    assert parse_time("garbage") is None
    op = _async_op()
    assert seconds_until_poll(op, now=NOW) == 10
    assert seconds_until_poll(op, now=NOW + datetime.timedelta(seconds=30)) == 0
    assert seconds_until_poll({}, now=NOW) == 0
