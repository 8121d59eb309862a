"""`acr-operator doctor` against an emulator process: its report and its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.emulator.test_cli import _start, _stop

TOKEN = "doctor-token"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def emulator_url():
    process, url = _start("--token", TOKEN)
    yield url
    _stop(process)


def doctor(url: str, token: str, **overrides: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ACR_OPERATOR_ARM_ENDPOINT": url,
        "ACR_OPERATOR_CREDENTIAL": "static-token",
        "ACR_OPERATOR_STATIC_TOKEN": token,
        "ACR_OPERATOR_ALLOW_HTTP": "true",
        "ACR_OPERATOR_SUBSCRIPTION_ID": SUBSCRIPTION,
        **overrides,
    }
    return subprocess.run([sys.executable, "-m", "acr_operator", "doctor"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_doctor_passes_against_the_emulator(emulator_url):
    result = doctor(emulator_url, TOKEN)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"settings: ok (endpoint {emulator_url}, credential static-token)"
    assert lines[1].startswith("token: ok")
    assert lines[2].startswith("ARM: ok (")
    assert "Microsoft.ContainerRegistry operations at api-version 2025-06-01-preview" in lines[2]
    assert lines[3] == "subscription: not found (expected from the emulator): NotFound"
    assert TOKEN not in result.stdout + result.stderr


def test_doctor_fails_plainly_with_a_wrong_token(emulator_url):
    result = doctor(emulator_url, "wrong-token")

    assert result.returncode == 1
    assert "ARM: FAILED: InvalidAuthenticationToken (HTTP 401)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "wrong-token" not in result.stdout + result.stderr


def _logged_requests(url: str) -> list:
    with urllib.request.urlopen(f"{url}/_emulator/requests", timeout=10) as response:
        return json.loads(response.read())


def test_doctor_reports_a_bad_setting_before_any_request(emulator_url):
    before = len(_logged_requests(emulator_url))

    result = doctor(emulator_url, TOKEN, ACR_OPERATOR_SUBSCRIPTION_ID="not-a-subscription")

    assert result.returncode == 2
    assert result.stdout.startswith("settings: FAILED: ")
    assert "ACR_OPERATOR_SUBSCRIPTION_ID" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert len(_logged_requests(emulator_url)) == before
