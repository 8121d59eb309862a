"""Fixtures for the emulator tests: an in-process emulator on 127.0.0.1 and an ARM client.

Each test gets its own emulator on a free port, with a manual clock so that
long-running operations finish only when the test moves time on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiohttp
import pytest

from acr_operator import ARM_API_VERSION
from acr_operator.emulator import serve
from acr_operator.emulator.clock import ManualClock
from acr_operator.emulator.options import Options

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GROUP = "rg1"
PROVIDER = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.ContainerRegistry"
TOKEN = "test-token"


def registry_path(name: str, group: str = GROUP, subscription: str = SUBSCRIPTION) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.ContainerRegistry/registries/{name}")


@dataclass
class Answer:
    status: int
    body: object
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class ArmClient:
    """Sends ARM requests (bearer token, api-version) and control requests to one emulator."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str | None = TOKEN):
        self.session = session
        self.base = base
        self.token = token

    async def request(self, method: str, path: str, body: object = None, *,
                      api_version: str | None = ARM_API_VERSION, query: dict | None = None,
                      headers: dict | None = None, raw: bytes | None = None) -> Answer:
        url = path if path.startswith("http") else self.base + path
        params = dict(query or {})
        if api_version is not None and "api-version=" not in url:
            params["api-version"] = api_version
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        async with self.session.request(method, url, params=params, data=data,
                                        headers=sent) as response:
            text = await response.text()
            parsed = json.loads(text) if text else None
            return Answer(response.status, parsed, dict(response.headers))

    async def get(self, path: str, **kw) -> Answer:
        return await self.request("GET", path, **kw)

    async def put(self, path: str, body: object, **kw) -> Answer:
        return await self.request("PUT", path, body, **kw)

    async def patch(self, path: str, body: object, **kw) -> Answer:
        return await self.request("PATCH", path, body, **kw)

    async def post(self, path: str, body: object = None, **kw) -> Answer:
        return await self.request("POST", path, body, **kw)

    async def delete(self, path: str, **kw) -> Answer:
        return await self.request("DELETE", path, **kw)

    async def control(self, method: str, path: str, body: object = None,
                      query: dict | None = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        async with self.session.request(method, f"{self.base}/_emulator/{path}", data=data,
                                        params=query or {}) as response:
            text = await response.text()
            return Answer(response.status, json.loads(text) if text else None,
                          dict(response.headers))

    async def configure(self, **changes) -> None:
        answer = await self.control("PUT", "config", changes)
        assert answer.status == 200, answer.body

    async def create_registry(self, name: str, sku: str = "Premium", location: str = "westus2",
                              group: str = GROUP, **properties) -> Answer:
        body = {"location": location, "sku": {"name": sku}}
        if properties:
            body["properties"] = properties
        answer = await self.put(registry_path(name, group), body)
        assert answer.status in (200, 201), answer.body
        return answer

    async def poll_until_done(self, answer: Answer, clock: ManualClock | None = None,
                              limit: int = 50) -> Answer:
        """Follow the polling URL of a long-running response until it reports an end state."""
        url = answer.header("Azure-AsyncOperation") or answer.header("Location")
        assert url, f"no polling URL in {answer.headers}"
        for _ in range(limit):
            polled = await self.get(url)
            running = polled.status == 202 or (
                isinstance(polled.body, dict) and polled.body.get("status") in (
                    "Creating", "Updating", "Deleting", "InProgress"))
            if not running:
                return polled
            if clock is not None:
                clock.advance(1.0)
        raise AssertionError(f"operation at {url} did not end after {limit} polls")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def options() -> Options:
    """Recorded mode with operations of 5 clock seconds and no Retry-After delay."""
    return Options(lro="recorded", operation_seconds=5.0, retry_after=0)


@pytest.fixture
async def emulator(options: Options, clock: ManualClock):
    running = await serve("127.0.0.1", 0, options=options, clock=clock, announce=None)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def arm(emulator) -> ArmClient:
    async with aiohttp.ClientSession() as session:
        yield ArmClient(session, emulator.url)
