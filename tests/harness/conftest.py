"""Fixtures for the harness tests: one API client per run and a fresh namespace per test."""

from __future__ import annotations

import contextlib
import time
import uuid

import pytest
from kubernetes import client


def _wait_until(check, timeout: float, what: str, interval: float = 0.25):
    """Call `check()` until it returns a truthy value and return that value; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last value: {last!r}")


@pytest.fixture(scope="session")
def wait_until():
    """Return a function that polls `check()` until it is truthy: wait_until(check, timeout, what)."""
    return _wait_until


@pytest.fixture(scope="session")
def api(kube):
    api_client = kube.api_client()
    yield api_client
    api_client.close()


@pytest.fixture
def namespace(api) -> str:
    """Create a namespace with a unique name, and delete it after the test without waiting."""
    name = f"harness-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    with contextlib.suppress(client.ApiException):
        core.delete_namespace(name)
