"""ARM error classification, error bodies, Retry-After parsing and redaction."""

from __future__ import annotations

import email.utils

import pytest

from acr_operator.arm.errors import (
    CODES,
    ArmBlockedError,
    ArmConflict,
    ArmNotFound,
    ArmThrottled,
    ArmTransientError,
    ArmUserError,
    ErrorClass,
    classify,
    error_from_response,
    parse_retry_after,
    redact,
)


@pytest.mark.parametrize(("code", "expected"), [
    ("InvalidParameter", ErrorClass.USER),
    ("InvalidRequestContent", ErrorClass.USER),
    ("AlreadyInUse", ErrorClass.USER),
    ("SkuNotSupported", ErrorClass.USER),
    ("AuthorizationFailed", ErrorClass.BLOCKED),
    ("ResourceNotFound", ErrorClass.NOT_FOUND),
    ("Conflict", ErrorClass.RETRYABLE),
    ("AnotherOperationInProgress", ErrorClass.RETRYABLE),
    ("InternalServerError", ErrorClass.RETRYABLE),
    ("ServiceUnavailable", ErrorClass.RETRYABLE),
    ("GatewayTimeout", ErrorClass.RETRYABLE),
    ("TooManyRequests", ErrorClass.RETRYABLE),
    ("ParentResourceNotFound", ErrorClass.RETRYABLE),
    ("invalidparameter", ErrorClass.USER),
])
def test_known_codes_have_their_class_whatever_the_status(code, expected):
    assert classify(400, code) is expected
    assert classify(500, code) is expected


@pytest.mark.parametrize(("status", "expected"), [
    (500, ErrorClass.RETRYABLE), (503, ErrorClass.RETRYABLE), (429, ErrorClass.RETRYABLE),
    (409, ErrorClass.RETRYABLE), (408, ErrorClass.RETRYABLE), (None, ErrorClass.RETRYABLE),
    (400, ErrorClass.USER), (422, ErrorClass.USER),
    (401, ErrorClass.BLOCKED), (403, ErrorClass.BLOCKED), (404, ErrorClass.NOT_FOUND),
])
def test_unknown_codes_fall_back_on_the_status(status, expected):
    assert classify(status, "SomethingNobodyKnows") is expected


def test_table_codes_are_pascal_case():
    assert all(code[0].isupper() and " " not in code for code in CODES)


@pytest.mark.parametrize(("status", "code", "cls"), [
    (404, "ResourceNotFound", ArmNotFound),
    (429, "TooManyRequests", ArmThrottled),
    (409, "AnotherOperationInProgress", ArmConflict),
    (500, "InternalServerError", ArmTransientError),
    (400, "InvalidParameter", ArmUserError),
    (403, "AuthorizationFailed", ArmBlockedError),
])
def test_error_types_follow_the_status(status, code, cls):
    error = error_from_response(status, {}, {"error": {"code": code, "message": "m"}})
    assert type(error) is cls
    assert error.code == code
    assert error.status == status


def test_error_body_parts_are_kept():
    error = error_from_response(400, {"Retry-After": "7"}, {"error": {
        "code": "InvalidParameter", "message": "bad sku", "target": "sku.name",
        "details": [{"code": "X", "message": "Basic has no zones"}],
    }})
    assert error.message == "bad sku (Basic has no zones)"
    assert error.target == "sku.name"
    assert error.retry_after == 7
    assert error.stalls and not error.retryable
    assert str(error) == "InvalidParameter (HTTP 400): bad sku (Basic has no zones)"


def test_error_without_a_body_still_says_something():
    error = error_from_response(502, {}, None)
    assert error.code == "InternalServerError"
    assert "502" in error.message
    assert error.retryable


def test_retry_after_seconds_and_case_insensitive_names():
    assert parse_retry_after({"retry-after": "10"}) == 10
    assert parse_retry_after({"Retry-After": "1.5"}) == 1.5
    assert parse_retry_after({"Retry-After": "-3"}) == 0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "soon"}) is None


def test_retry_after_ms_headers_win():
    headers = {"Retry-After": "10", "x-ms-retry-after-ms": "2500"}
    assert parse_retry_after(headers) == 2.5
    assert parse_retry_after({"Retry-After-Ms": "500"}) == 0.5


def test_retry_after_http_date():
    now = 1_700_000_000.0
    later = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"Retry-After": later}, now=now) == pytest.approx(30, abs=1)


def test_redaction_removes_tokens_signatures_and_secret_fields():
    text = redact(
        'Authorization: Bearer eyJhbGciOi.abc.def failed for '
        'https://host/op?api-version=1&sig=abcdef and {"password": "p4ss", "serviceUri": "x"}'
    )
    assert "eyJhbGciOi" not in text
    assert "sig=abcdef" not in text
    assert "p4ss" not in text
    assert '"serviceUri": "x"' not in text
    assert "https://host/op?[redacted]" in text


def test_messages_are_trimmed():
    assert len(redact("x" * 5000)) <= 600
