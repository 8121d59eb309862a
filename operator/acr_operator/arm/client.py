"""The one HTTP client the operator uses to talk to Azure Resource Manager.

It is a thin layer over azure-core's async ARM pipeline, assembled by hand
so that it contains no retry policy: every delay belongs to the reconciler,
which knows whether a wait is a poll, a backoff or a resync, and records it
on the object. The client only sends one request, turns the answer into an
`ArmResponse` or an `ArmError`, and never logs bodies or the token.

One client (one aiohttp session, one connection pool, one token cache)
serves every object of the operator; `ArmClient.open()` creates it at
start-up and `close()` releases it at exit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.pipeline.policies import (
    AsyncBearerTokenCredentialPolicy,
    HeadersPolicy,
    RequestIdPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpTransport
from azure.core.rest import HttpRequest
from azure.core.utils import CaseInsensitiveDict
from azure.mgmt.core import AsyncARMPipelineClient
from azure.mgmt.core.policies import ARMHttpLoggingPolicy

from acr_operator import ARM_API_VERSION, __version__
from acr_operator.arm.credentials import credential_from_settings
from acr_operator.arm.errors import (
    ArmBlockedError,
    ArmTransientError,
    ArmUserError,
    error_from_response,
)
from acr_operator.config import Settings

logger = logging.getLogger(__name__)

USER_AGENT = f"acr-operator/{__version__}"

# Per-request transport timeouts, in seconds. ARM answers writes of long
# operations at once (201/202), so a minute of silence means trouble.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60


@dataclass(frozen=True)
class ArmResponse:
    """A successful (< 400) ARM answer.

    `headers` is case-insensitive. `body` is the parsed JSON, or None when
    the answer had no body or one that is not JSON.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict)
    body: Any = None


class ArmClient:
    """Sends ARM requests with the api-version, a bearer token and no retries.

    Not-found and every other error answer raise `ArmError` subclasses; the
    client never interprets an answer beyond that. Safe to share between
    concurrent tasks of one event loop.
    """

    def __init__(
            self,
            *,
            endpoint: str,
            credential: AsyncTokenCredential,
            audience: str,
            api_version: str = ARM_API_VERSION,
            transport: AsyncHttpTransport | None = None,
            session: aiohttp.ClientSession | None = None,
            owns_credential: bool = True,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_version = api_version
        self._credential = credential
        self._audience = audience
        self._owns_credential = owns_credential
        self._session = session
        parts = urlsplit(self.endpoint)
        self._origin = (parts.scheme, parts.netloc.lower())
        # azure-core's bearer policy refuses to put a token on a plain-http URL.
        # The emulator serves http on loopback, where nobody can sniff the wire,
        # so for it (and only for it, see Settings) the check is switched off
        # per request with azure-core's documented `enforce_https` option.
        self._enforce_https = parts.scheme == "https"
        if transport is None:
            if session is None:
                raise ValueError("ArmClient needs either a transport or an aiohttp session")
            transport = AioHttpTransport(session=session, session_owner=False)
        policies = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(base_user_agent=USER_AGENT, user_agent_use_env=False),
            AsyncBearerTokenCredentialPolicy(credential, audience),
            # Headers are logged from an allow-list (Authorization is never on it),
            # query strings other than api-version are redacted, bodies never logged.
            ARMHttpLoggingPolicy(
                logger=logging.getLogger("acr_operator.arm.http"),
                http_logging_level=logging.DEBUG,
            ),
        ]
        self._pipeline_client = AsyncARMPipelineClient(
            base_url=self.endpoint, policies=policies, transport=transport,
        )

    @classmethod
    async def open(cls, settings: Settings) -> ArmClient:
        """A client for the configured endpoint and credential, with its own session.

        Must run inside the event loop that will use it (aiohttp binds the
        session to the loop).
        """
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300),
            auto_decompress=True,
        )
        return cls(
            endpoint=settings.arm_endpoint,
            credential=credential_from_settings(settings),
            audience=settings.arm_audience,
            session=session,
        )

    async def close(self) -> None:
        await self._pipeline_client.close()
        if self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_credential:
            await self._credential.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def check_token(self) -> float:
        """Get a token for the audience, as a request would; returns its expiry (Unix time).

        Raises ArmBlockedError when no credential source works. The token
        itself is neither returned nor logged.
        """
        try:
            token = await self._credential.get_token(self._audience)
        except ClientAuthenticationError as exc:
            raise ArmBlockedError(
                f"Could not get a token for {self._audience}: {exc.message}",
                code="CredentialUnavailable",
            ) from exc
        return float(token.expires_on)

    async def request(
            self,
            method: str,
            path_or_url: str,
            *,
            body: Any = None,
            params: Mapping[str, str] | None = None,
    ) -> ArmResponse:
        """Send one request and return the answer if its status is below 400.

        `path_or_url` is an ARM path (`/subscriptions/...`) or an absolute
        URL that ARM handed out for polling; an absolute URL must point at
        the configured endpoint (a token is never sent elsewhere) and keeps
        its query as given. The api-version is added when absent.

        Raises ArmNotFound, ArmThrottled, ArmConflict, ArmUserError,
        ArmBlockedError or ArmTransientError (also for network failures and
        timeouts). Not idempotent by itself: that depends on `method`.
        """
        url, query = self._build_url(path_or_url, params)
        request = HttpRequest(method.upper(), url, params=query or None, json=body)
        try:
            response = await self._pipeline_client.send_request(
                request,
                enforce_https=self._enforce_https,
                connection_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
            )
            content = response.content  # read in full by send_request (stream=False)
        except ClientAuthenticationError as exc:
            raise ArmBlockedError(
                "Could not get a token for ARM; check the operator's Azure identity "
                f"(workload identity, managed identity or environment). {exc.message}",
                code="CredentialUnavailable",
            ) from exc
        except (AzureError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ArmTransientError(
                f"{method.upper()} {_path_of(url)} failed without a response "
                f"({_network_reason(exc)}); check that ACR_OPERATOR_ARM_ENDPOINT is reachable "
                "and uses the scheme the server speaks (http or https)",
                code="NetworkError",
            ) from exc

        headers = CaseInsensitiveDict(response.headers.items())
        parsed, text = _parse_body(content)
        logger.debug("%s %s answered %s", method.upper(), _path_of(url), response.status_code)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, headers, parsed or text)
        return ArmResponse(status=response.status_code, headers=headers, body=parsed)

    def _build_url(
            self,
            path_or_url: str,
            params: Mapping[str, str] | None,
    ) -> tuple[str, dict[str, str]]:
        query = dict(params or {})
        if "://" in path_or_url:
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise ArmUserError(
                    f"refusing to send a token to {parts.scheme}://{parts.netloc}, "
                    f"which is not the ARM endpoint {self.endpoint}",
                    code="ForeignUrl",
                )
            given = {key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
            if "api-version" not in given:
                query.setdefault("api-version", self.api_version)
            return path_or_url, query
        if not path_or_url.startswith("/"):
            raise ValueError(f"ARM path must start with '/': {path_or_url!r}")
        query.setdefault("api-version", self.api_version)
        return self.endpoint + path_or_url, query


def _parse_body(content: bytes) -> tuple[Any, str]:
    # The text is kept (short) for error answers that are not JSON, such as a
    # gateway's HTML page, so that the error message says something.
    if not content or not content.strip():
        return None, ""
    try:
        return json.loads(content), ""
    except ValueError:
        return None, content[:500].decode("utf-8", "replace")


def _path_of(url: str) -> str:
    # Logs and messages carry the path only: polling URLs have signed queries.
    return urlsplit(url).path


def _network_reason(exc: BaseException) -> str:
    """Return the innermost cause of a network error as one short line.

    azure-core wraps aiohttp's error ("Cannot connect to host ...") in its
    own, whose text alone does not say what failed. Such texts name hosts
    and ports, never credentials.
    """
    inner: BaseException = exc
    seen = 0
    while seen < 5:
        nested = getattr(inner, "inner_exception", None) or inner.__cause__
        if nested is None:
            break
        inner, seen = nested, seen + 1
    text = str(inner).strip() or type(inner).__name__
    return text.splitlines()[0][:200]
