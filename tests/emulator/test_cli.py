"""The emulator command: a separate process on 127.0.0.1, plain HTTP and HTTPS."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from acr_operator.emulator import cli
from tests.emulator.conftest import registry_path

LISTENING = re.compile(r"emulator listening on (https?://127\.0\.0\.1:\d+)")


def _start(*arguments: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "acr_operator.emulator", "--host", "127.0.0.1", "--port", "0",
         *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stdout.readline()
    match = LISTENING.search(line)
    if match is None:
        process.kill()
        raise AssertionError(f"unexpected first line {line!r}")
    return process, match.group(1)


def _stop(process: subprocess.Popen) -> int:
    os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    finally:
        process.stdout.close()


def _put_registry(url: str, context: ssl.SSLContext | None = None) -> tuple[int, dict]:
    body = json.dumps({"location": "westus", "sku": {"name": "Basic"}}).encode()
    request = urllib.request.Request(
        f"{url}{registry_path('cliregistry1')}?api-version=2025-06-01-preview", data=body,
        method="PUT", headers={"Authorization": "Bearer fixed", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_command_serves_until_terminated() -> None:
    process, url = _start("--token", "fixed", "--lro", "sync", "--retry-after", "1")
    try:
        status, body = _put_registry(url)
        assert status == 200
        assert body["properties"]["loginServer"] == "cliregistry1.azurecr.io"
        with urllib.request.urlopen(f"{url}/_emulator/config", timeout=10) as response:
            config = json.loads(response.read())
        assert config["lro"] == "sync"
        assert config["retryAfter"] == 1
    finally:
        assert _stop(process) == 0


def test_command_serves_https_with_its_ca(tmp_path: Path) -> None:
    process, url = _start("--tls-dir", str(tmp_path))
    try:
        assert url.startswith("https://")
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        status, _ = _put_registry(url, context)
        assert status == 200
    finally:
        assert _stop(process) == 0


def test_arguments_map_to_options() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--lro", "async", "--operation-seconds", "0.5", "--page-size", "3",
                              "--token", "t"])
    options = cli.options_from(args)
    assert (options.lro, options.operation_seconds, options.page_size, options.token) == (
        "async", 0.5, 3, "t")
    assert (args.host, args.port) == ("127.0.0.1", 8080)


def test_bad_arguments_exit_with_status_2(capsys) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["--page-size", "0"])) == 2
    assert "pageSize" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--lro", "later"])
