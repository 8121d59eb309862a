"""Token credentials for ARM: azure-identity for Azure, a fixed token for the emulator.

Both are async (`azure.core.credentials_async.AsyncTokenCredential`), so
getting or refreshing a token never blocks the event loop that kopf and
every reconcile share.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential

from acr_operator.config import Settings

# Far enough that the bearer policy never asks again during a test run or demo.
_STATIC_LIFETIME = 365 * 24 * 3600


class StaticTokenCredential(AsyncTokenCredential):
    """Hands out one fixed bearer token for every scope.

    Meant for the emulator, which accepts any token (or the one fixed with
    its `--token`). The token is never shown in `repr()`.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("StaticTokenCredential needs a non-empty token")
        self._token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + _STATIC_LIFETIME)

    async def close(self) -> None:
        pass

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    def __repr__(self) -> str:
        return "StaticTokenCredential(token=[redacted])"


def credential_from_settings(settings: Settings) -> AsyncTokenCredential:
    """The credential the settings ask for; the caller closes it.

    `default` is azure-identity's async DefaultAzureCredential: environment
    variables (service principal), workload identity (AKS federated token),
    then managed identity. Developer-machine sources (CLI, PowerShell, VS
    Code) stay in the chain for `acr-operator run` on a laptop.
    """
    if settings.credential == "static-token":
        assert settings.static_token is not None  # Settings.check() guarantees it.
        return StaticTokenCredential(settings.static_token.get_secret_value())

    # Imported here: azure.identity pulls in msal and friends, which the
    # emulator-only test runs never need.
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()
