"""The official Azure SDK (azure-mgmt-containerregistry) against the emulator, over HTTPS.

azure-core sends bearer tokens only over HTTPS, so the emulator serves a
generated certificate and the client trusts its CA file. The SDK's own
pollers drive the long-running operations, which checks that the polling
headers and final answers are the ones azure-core understands.
"""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry.aio import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import (
    Registry,
    RegistryUpdateParameters,
    Replication,
    Sku,
)

from acr_operator import ARM_API_VERSION
from acr_operator.emulator import serve
from acr_operator.emulator.options import Options
from tests.emulator.conftest import GROUP, SUBSCRIPTION

# The SDK polls every `POLL` seconds when Retry-After is 0; operations take a few polls.
POLL = 0.05


class StaticToken(AsyncTokenCredential):
    """A credential that hands out one fixed token, as the operator's static-token mode does."""

    async def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        return AccessToken("sdk-test-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass


@pytest.fixture
async def client(tmp_path):
    options = Options(lro="recorded", operation_seconds=0.2, retry_after=0)
    running = await serve("127.0.0.1", 0, options=options, tls_dir=tmp_path / "tls",
                          announce=None)
    sdk = ContainerRegistryManagementClient(
        StaticToken(), SUBSCRIPTION, base_url=running.url, api_version=ARM_API_VERSION,
        connection_verify=str(running.ca_file), polling_interval=POLL)
    try:
        async with sdk:
            yield sdk, running
    finally:
        await running.stop()


async def test_sdk_registry_lifecycle(client) -> None:
    sdk, running = client
    poller = await sdk.registries.begin_create(
        GROUP, "sdkregistry1",
        Registry(location="westus2", sku=Sku(name="Premium"), tags={"team": "a"}))
    created = await poller.result()
    assert created.login_server == "sdkregistry1.azurecr.io"
    assert created.provisioning_state == "Succeeded"
    assert created.sku.tier == "Premium"

    poller = await sdk.registries.begin_update(
        GROUP, "sdkregistry1", RegistryUpdateParameters(tags={"team": "b"}, admin_user_enabled=True))
    updated = await poller.result()
    assert updated.tags == {"team": "b"}
    assert updated.admin_user_enabled is True

    fetched = await sdk.registries.get(GROUP, "SDKREGISTRY1")
    assert fetched.id.endswith("/registries/sdkregistry1")
    names = [r.name async for r in sdk.registries.list()]
    assert names == ["sdkregistry1"]

    poller = await sdk.registries.begin_delete(GROUP, "sdkregistry1")
    assert await poller.result() is None
    with pytest.raises(ResourceNotFoundError):
        await sdk.registries.get(GROUP, "sdkregistry1")
    methods = [(e["method"], e["status"]) for e in running.emulator.log.list()]
    assert ("DELETE", 202) in methods and ("GET", 202) in methods


async def test_sdk_replication_polls_azure_async_operation(client) -> None:
    sdk, running = client
    await (await sdk.registries.begin_create(
        GROUP, "sdkregistry2", Registry(location="westus2", sku=Sku(name="Premium")))).result()

    poller = await sdk.replications.begin_create(
        GROUP, "sdkregistry2", "eastus", Replication(location="eastus"))
    replication = await poller.result()

    assert replication.provisioning_state == "Succeeded"
    assert replication.location == "eastus"
    statuses = [e for e in running.emulator.log.list() if e["operationId"] == "OperationStatus"]
    assert statuses, "the SDK never polled the Azure-AsyncOperation URL"
    assert [r.name async for r in sdk.replications.list(GROUP, "sdkregistry2")] == ["eastus"]


async def test_sdk_sees_service_rule_errors(client) -> None:
    sdk, _ = client
    await (await sdk.registries.begin_create(
        GROUP, "sdkregistry3", Registry(location="westus2", sku=Sku(name="Basic")))).result()

    with pytest.raises(HttpResponseError) as raised:
        await sdk.replications.begin_create(
            GROUP, "sdkregistry3", "eastus", Replication(location="eastus"))

    assert raised.value.status_code == 400
    assert raised.value.error.code == "GeoReplicationNotSupported"


async def test_sdk_pages_lists(client) -> None:
    sdk, running = client
    running.emulator.options.update({"pageSize": 2, "lro": "sync"})
    for index in range(5):
        await (await sdk.registries.begin_create(
            GROUP, f"sdkpaged{index}", Registry(location="westus2", sku=Sku(name="Basic")))).result()

    names = [r.name async for r in sdk.registries.list_by_resource_group(GROUP)]

    assert names == [f"sdkpaged{index}" for index in range(5)]
    lists = [e for e in running.emulator.log.list()
             if e["operationId"] == "Registries_ListByResourceGroup"]
    assert len(lists) == 3
