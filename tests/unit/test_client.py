"""ArmClient against a small HTTP server on 127.0.0.1: what it sends, what it raises."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from acr_operator.arm import (
    ArmClient,
    ArmNotFound,
    ArmThrottled,
    ArmTransientError,
    ArmUserError,
)
from acr_operator.arm.credentials import StaticTokenCredential
from acr_operator.config import Settings


class Recorder:
    def __init__(self) -> None:
        self.seen: list[web.Request] = []
        self.bodies: list[object] = []
        self.answers: list[tuple[int, dict, object]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        raw = await request.read()
        self.bodies.append(json.loads(raw) if raw else None)
        status, headers, body = self.answers.pop(0) if self.answers else (200, {}, {"ok": True})
        if body is None:
            text = ""
        elif isinstance(body, str):
            text = body
        else:
            text = json.dumps(body)
        return web.Response(status=status, headers=headers, text=text,
                            content_type="application/json")


@pytest.fixture
async def server():
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    recorder.url = str(test_server.make_url("")).rstrip("/")
    yield recorder
    await test_server.close()


@pytest.fixture
async def client(server):
    settings = Settings.from_env({
        "ACR_OPERATOR_ARM_ENDPOINT": server.url,
        "ACR_OPERATOR_CREDENTIAL": "static-token",
        "ACR_OPERATOR_STATIC_TOKEN": "test-token",
    })
    arm = await ArmClient.open(settings)
    yield arm
    await arm.close()


async def test_request_adds_api_version_token_and_user_agent(server, client):
    response = await client.request("PUT", "/subscriptions/s/x", body={"a": 1})

    assert response.status == 200
    assert response.body == {"ok": True}
    request = server.seen[0]
    assert request.query["api-version"] == "2025-06-01-preview"
    assert request.headers["Authorization"] == "Bearer test-token"
    assert request.headers["User-Agent"].startswith("acr-operator/")
    assert server.bodies[0] == {"a": 1}


async def test_polling_url_keeps_its_query(server, client):
    url = f"{server.url}/op/status?api-version=2025-11-01&t=1&c=abc"

    await client.request("GET", url)

    assert server.seen[0].query.getall("api-version") == ["2025-11-01"]
    assert server.seen[0].query["c"] == "abc"


async def test_token_is_never_sent_to_another_host(client):
    with pytest.raises(ArmUserError, match="refusing"):
        await client.request("GET", "http://127.0.0.2:1/op")


async def test_headers_are_case_insensitive_and_empty_bodies_are_none(server, client):
    server.answers.append((202, {"Location": f"{server.url}/op", "Retry-After": "10"}, None))

    response = await client.request("DELETE", "/subscriptions/s/x")

    assert response.status == 202
    assert response.body is None
    assert response.headers["location"] == f"{server.url}/op"


@pytest.mark.parametrize(("status", "cls"), [
    (404, ArmNotFound), (429, ArmThrottled), (500, ArmTransientError), (400, ArmUserError),
])
async def test_error_answers_raise_once_without_retries(server, client, status, cls):
    server.answers.append((status, {"Retry-After": "3"},
                           {"error": {"code": "SomeCode", "message": "went wrong"}}))

    with pytest.raises(cls) as raised:
        await client.request("GET", "/subscriptions/s/x")

    assert len(server.seen) == 1
    assert raised.value.code == "SomeCode"
    assert raised.value.message == "went wrong"
    assert raised.value.retry_after == 3


async def test_non_json_error_pages_keep_some_text(server, client):
    server.answers.append((502, {}, "<html>bad gateway</html>"))
    with pytest.raises(ArmTransientError) as raised:
        await client.request("GET", "/subscriptions/s/x")
    assert "bad gateway" in raised.value.message


async def test_network_failures_are_transient():
    credential = StaticTokenCredential("t")
    async with aiohttp.ClientSession() as session:
        arm = ArmClient(endpoint="http://127.0.0.1:9", credential=credential,
                        audience="https://management.azure.com/.default", session=session)
        with pytest.raises(ArmTransientError) as raised:
            await arm.request("GET", "/subscriptions/s")
        assert raised.value.code == "NetworkError"
        await arm.close()


async def test_check_token_reports_expiry(client):
    import time

    assert await client.check_token() > time.time() + 3600


def test_static_credential_hides_its_token():
    assert "secret" not in repr(StaticTokenCredential("secret"))
