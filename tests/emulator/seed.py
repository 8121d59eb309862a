"""Creating the resources a test request assumes, with the smallest valid bodies.

`ensure` creates a resource and, first, everything it needs: its parents and
the resources its body refers to (a token's scope map, a pipeline run's
pipeline). Registries are Premium with the admin user on, so that no
service rule blocks the request under test. `ensure_parent` also turns on
the data endpoint that a connected registry needs.
"""

from __future__ import annotations

from acr_operator.emulator import ids
from tests.emulator.conftest import ArmClient

HOME_REGION = "westus"


def _registry(rid: ids.ResourceId) -> dict:
    return {"location": HOME_REGION, "sku": {"name": "Premium"},
            "properties": {"adminUserEnabled": True}}


def _body(rid: ids.ResourceId) -> tuple[dict | None, list[str]]:
    """The minimal body of a resource and the ids it refers to."""
    registry = str(rid.registry)
    short = rid.short_type.lower()
    if short == "registries":
        return _registry(rid), []
    if short == "registries/replications":
        return {"location": "northeurope"}, []
    if short == "registries/webhooks":
        return {"location": HOME_REGION,
                "properties": {"serviceUri": "https://hooks.example.com/acr", "actions": ["push"]}}, []
    if short == "registries/scopemaps":
        return {"properties": {"actions": ["repositories/hello/content/read"]}}, []
    if short == "registries/tokens":
        scope_map = f"{registry}/scopeMaps/seedScopeMap"
        return {"properties": {"scopeMapId": scope_map}}, [scope_map]
    if short == "registries/cacherules":
        return {"properties": {"sourceRepository": "docker.io/library/hello-world",
                               "targetRepository": "hello-world"}}, []
    if short == "registries/credentialsets":
        return {"identity": {"type": "SystemAssigned"},
                "properties": {"loginServer": "docker.io", "authCredentials": [{
                    "name": "Credential1",
                    "usernameSecretIdentifier": "https://vault.vault.azure.net/secrets/user",
                    "passwordSecretIdentifier": "https://vault.vault.azure.net/secrets/pass"}]}}, []
    if short == "registries/connectedregistries":
        token = f"{registry}/tokens/seedSyncToken"
        return {"properties": {"mode": "ReadOnly", "parent": {"syncProperties": {
            "tokenId": token, "messageTtl": "P1D"}}}}, [token]
    if short == "registries/exportpipelines":
        return {"location": HOME_REGION, "identity": {"type": "SystemAssigned"},
                "properties": {"target": {
                    "type": "AzureStorageBlobContainer",
                    "uri": "https://account.blob.core.windows.net/export",
                    "keyVaultUri": "https://vault.vault.azure.net/secrets/sas"}}}, []
    if short == "registries/importpipelines":
        return {"location": HOME_REGION, "identity": {"type": "SystemAssigned"},
                "properties": {"source": {
                    "uri": "https://account.blob.core.windows.net/import",
                    "keyVaultUri": "https://vault.vault.azure.net/secrets/sas"}}}, []
    if short == "registries/pipelineruns":
        pipeline = f"{registry}/exportPipelines/seedExportPipeline"
        return {"properties": {"request": {
            "pipelineResourceId": pipeline, "artifacts": ["hello-world:latest"],
            "target": {"type": "AzureStorageBlob", "name": "seed.tar.gz"}}}}, [pipeline]
    if short == "registries/packages/archives":
        return {"properties": {"packageSource": {"type": "remote", "url": "https://example.com"},
                               "publishedVersion": "1.0"}}, []
    if short == "registries/packages/archives/versions":
        return None, []
    if short == "registries/privateendpointconnections":
        return None, []
    raise AssertionError(f"no seed body for {rid.type}")


async def ensure(arm: ArmClient, resource_id: str) -> None:
    """Create `resource_id` unless it exists, with its parents and referenced resources."""
    rid = ids.parse(resource_id)
    assert rid is not None, resource_id
    existing = await arm.control("GET", "resources")
    if any(k.lower() == str(rid).lower() for k in existing.body):
        return
    await ensure_parent(arm, rid)
    body, references = _body(rid)
    for reference in references:
        await ensure(arm, reference)
    if rid.short_type.lower() == "registries/privateendpointconnections":
        answer = await arm.control("POST", "private-endpoint-connections", {
            "registryId": str(rid.registry), "name": rid.name,
            "privateEndpointId": f"/subscriptions/{rid.subscription}/resourceGroups/"
                                 f"{rid.resource_group}/providers/Microsoft.Network/"
                                 f"privateEndpoints/seedEndpoint"})
        assert answer.status == 201, answer.body
        return
    config = (await arm.control("GET", "config")).body
    await arm.configure(lro="sync")
    try:
        answer = await arm.put(str(rid), body)
    finally:
        await arm.configure(lro=config["lro"])
    assert answer.status == 200, (resource_id, answer.body)


async def ensure_parent(arm: ArmClient, rid: ids.ResourceId) -> None:
    """Create what a new `rid` needs above it."""
    if rid.parent is None:
        return
    await ensure(arm, str(rid.parent))
    if rid.short_type.lower() == "registries/connectedregistries":
        answer = await arm.control("PATCH", "resources", {"properties": {
            "dataEndpointEnabled": True}}, query={"id": str(rid.registry)})
        assert answer.status == 200, answer.body
