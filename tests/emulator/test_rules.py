"""Service rules: SKU-gated features, replication regions, references, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from acr_operator.emulator import rules
from tests.emulator.conftest import SUBSCRIPTION, registry_path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "emulator-rules.md"


@pytest.fixture
async def sync_arm(arm):
    await arm.configure(lro="sync")
    return arm


@pytest.mark.parametrize(("properties", "code"), [
    ({"networkRuleSet": {"defaultAction": "Allow", "ipRules": [{"value": "1.2.3.4"}]}},
     "NetworkRuleSetNotSupported"),
    ({"networkRuleSet": {"defaultAction": "Deny"}}, "NetworkRuleSetNotSupported"),
    ({"dataEndpointEnabled": True}, "DataEndpointNotSupported"),
    ({"policies": {"retentionPolicy": {"status": "enabled"}}}, "RetentionPolicyNotSupported"),
    ({"publicNetworkAccess": "Disabled"}, "PublicNetworkAccessNotSupported"),
    ({"encryption": {"status": "enabled", "keyVaultProperties": {
        "keyIdentifier": "https://v.vault.azure.net/keys/k"}}}, "EncryptionNotSupported"),
    ({"anonymousPullEnabled": True}, "AnonymousPullNotSupported"),
])
async def test_basic_registries_refuse_premium_features(sync_arm, properties, code) -> None:
    answer = await sync_arm.put(registry_path("basicregistry"), {
        "location": "westus2", "sku": {"name": "Basic"}, "properties": properties})
    assert answer.status == 400
    assert answer.body["error"]["code"] == code
    premium = await sync_arm.put(registry_path("premiumregistry"), {
        "location": "westus2", "sku": {"name": "Premium"}, "properties": properties})
    assert premium.status == 200, premium.body


async def test_standard_allows_anonymous_pull_and_zone_redundancy(sync_arm) -> None:
    answer = await sync_arm.put(registry_path("standardregistry"), {
        "location": "westus2", "sku": {"name": "Standard"},
        "properties": {"anonymousPullEnabled": True, "zoneRedundancy": "Enabled"}})
    assert answer.status == 200, answer.body


async def test_customer_managed_key_is_set_at_create(sync_arm) -> None:
    key = {"status": "enabled", "keyVaultProperties": {
        "keyIdentifier": "https://v.vault.azure.net/keys/k", "identity": "client-id"}}
    created = await sync_arm.create_registry("myregistry1", encryption=key)
    vault = created.body["properties"]["encryption"]["keyVaultProperties"]
    assert vault["keyRotationEnabled"] is True
    again = await sync_arm.patch(registry_path("myregistry1"), {"tags": {"a": "b"}})
    assert again.body["properties"]["encryption"]["keyVaultProperties"] == vault
    off = await sync_arm.patch(registry_path("myregistry1"),
                               {"properties": {"encryption": {"status": "disabled"}}})
    assert off.body["error"]["code"] == "EncryptionChangeNotAllowed"
    await sync_arm.create_registry("plainregistry")
    on = await sync_arm.patch(registry_path("plainregistry"), {"properties": {"encryption": key}})
    assert on.body["error"]["code"] == "EncryptionChangeNotAllowed"


async def test_downgrading_with_premium_features_fails(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1", dataEndpointEnabled=True)
    answer = await sync_arm.patch(registry_path("myregistry1"), {"sku": {"name": "Standard"}})
    assert answer.body["error"]["code"] == "DataEndpointNotSupported"


@pytest.mark.parametrize(("child", "body", "code"), [
    ("replications/eastus", {"location": "eastus"}, "GeoReplicationNotSupported"),
    ("exportPipelines/export1", {"location": "westus2", "properties": {"target": {
        "type": "AzureStorageBlobContainer", "uri": "https://a.blob.core.windows.net/c",
        "keyVaultUri": "https://v.vault.azure.net/secrets/s"}}}, "PipelineNotSupported"),
    ("importPipelines/import1", {"location": "westus2", "properties": {"source": {
        "uri": "https://a.blob.core.windows.net/c",
        "keyVaultUri": "https://v.vault.azure.net/secrets/s"}}}, "PipelineNotSupported"),
    ("privateEndpointConnections/conn1", {"properties": {
        "privateLinkServiceConnectionState": {"status": "Approved"}}}, "PrivateEndpointNotSupported"),
])
async def test_premium_only_children(sync_arm, child, body, code) -> None:
    await sync_arm.create_registry("standardregistry", sku="Standard")
    answer = await sync_arm.put(f"{registry_path('standardregistry')}/{child}", body)
    assert answer.status == 400
    assert answer.body["error"]["code"] == code


async def test_connected_registry_needs_premium_data_endpoint_and_tokens(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1")
    path = registry_path("myregistry1") + "/connectedRegistries/edge1"
    token = registry_path("myregistry1") + "/tokens/synctoken"
    body = {"properties": {"mode": "ReadOnly", "parent": {"syncProperties": {
        "tokenId": token, "messageTtl": "P1D"}}}}
    assert (await sync_arm.put(path, body)).body["error"]["code"] == "DataEndpointRequired"
    await sync_arm.patch(registry_path("myregistry1"), {"properties": {"dataEndpointEnabled": True}})
    assert (await sync_arm.put(path, body)).body["error"]["code"] == "TokenNotFound"
    await sync_arm.put(token, {"properties": {
        "scopeMapId": registry_path("myregistry1") + "/scopeMaps/_repositories_admin"}})
    created = await sync_arm.put(path, body)
    assert created.status == 200, created.body
    assert created.body["properties"]["activation"] == {"status": "Inactive"}


async def test_replication_regions(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1", location="westus2")
    home = await sync_arm.put(registry_path("myregistry1") + "/replications/homeregion",
                              {"location": "West US 2"})
    assert home.body["error"]["code"] == "ReplicationInHomeRegion"
    first = await sync_arm.put(registry_path("myregistry1") + "/replications/eastone",
                               {"location": "eastus"})
    assert first.status == 200
    second = await sync_arm.put(registry_path("myregistry1") + "/replications/easttwo",
                                {"location": "eastus"})
    assert second.body["error"]["code"] == "ReplicationAlreadyExists"
    again = await sync_arm.put(registry_path("myregistry1") + "/replications/eastone",
                               {"location": "eastus", "tags": {"a": "b"}})
    assert again.status == 200


async def test_locations_and_zone_redundancy_are_create_only(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1", location="westus2")
    moved = await sync_arm.put(registry_path("myregistry1"),
                               {"location": "eastus", "sku": {"name": "Premium"}})
    assert moved.body["error"]["code"] == "InvalidResourceLocation"
    zoned = await sync_arm.put(registry_path("myregistry1"), {
        "location": "westus2", "sku": {"name": "Premium"},
        "properties": {"zoneRedundancy": "Enabled"}})
    assert zoned.body["error"]["code"] == "PropertyChangeNotAllowed"
    labelled = await sync_arm.put(registry_path("myregistry1"), {
        "location": "westus2", "sku": {"name": "Premium"},
        "properties": {"autoGeneratedDomainNameLabelScope": "NoReuse"}})
    assert labelled.body["error"]["target"] == "properties.autoGeneratedDomainNameLabelScope"


async def test_token_needs_an_existing_scope_map(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1")
    await sync_arm.create_registry("otherregistry1")
    token = registry_path("myregistry1") + "/tokens/token1"
    missing = await sync_arm.put(token, {"properties": {
        "scopeMapId": registry_path("myregistry1") + "/scopeMaps/nosuchmap"}})
    assert missing.status == 400
    assert missing.body["error"]["code"] == "ScopeMapNotFound"
    assert missing.body["error"]["target"] == "properties.scopeMapId"
    foreign_map = registry_path("otherregistry1") + "/scopeMaps/maps1"
    await sync_arm.put(foreign_map, {"properties": {"actions": ["repositories/a/content/read"]}})
    foreign = await sync_arm.put(token, {"properties": {"scopeMapId": foreign_map}})
    assert foreign.body["error"]["code"] == "ScopeMapNotFound"
    own_map = registry_path("myregistry1") + "/scopeMaps/maps1"
    await sync_arm.put(own_map, {"properties": {"actions": ["repositories/a/content/read"]}})
    assert (await sync_arm.put(token, {"properties": {"scopeMapId": own_map}})).status == 200


async def test_referenced_resources_must_exist(sync_arm) -> None:
    await sync_arm.create_registry("myregistry1")
    rule = await sync_arm.put(registry_path("myregistry1") + "/cacheRules/rule1", {"properties": {
        "sourceRepository": "docker.io/library/a", "targetRepository": "a",
        "credentialSetResourceId": registry_path("myregistry1") + "/credentialSets/nope1"}})
    assert rule.body["error"]["code"] == "CredentialSetNotFound"
    run = await sync_arm.put(registry_path("myregistry1") + "/pipelineRuns/run12", {"properties": {
        "request": {"pipelineResourceId": registry_path("myregistry1") + "/exportPipelines/nope1"}}})
    assert run.body["error"]["code"] == "PipelineNotFound"


async def test_webhook_count_is_limited_per_sku(sync_arm) -> None:
    await sync_arm.create_registry("basicregistry", sku="Basic")
    body = {"location": "westus2", "properties": {"serviceUri": "https://h.example", "actions": ["push"]}}
    for index in range(rules.WEBHOOK_LIMITS["Basic"]):
        assert (await sync_arm.put(registry_path("basicregistry") + f"/webhooks/hook{index}x",
                                   body)).status == 200
    extra = await sync_arm.put(registry_path("basicregistry") + "/webhooks/hookextra", body)
    assert extra.body["error"]["code"] == "QuotaExceeded"


async def test_registry_names_are_global(sync_arm) -> None:
    await sync_arm.create_registry("sharedname1")
    elsewhere = await sync_arm.put(
        registry_path("SharedName1", group="other", subscription="11111111-1111-1111-1111-111111111111"),
        {"location": "westus", "sku": {"name": "Basic"}})
    assert elsewhere.status == 409
    assert elsewhere.body["error"]["code"] == "AlreadyInUse"
    assert "sharedname1.azurecr.io" in elsewhere.body["error"]["message"]


async def test_check_name_availability(sync_arm) -> None:
    url = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/checkNameAvailability"
    kind = "Microsoft.ContainerRegistry/registries"
    free = await sync_arm.post(url, {"name": "freename1", "type": kind})
    assert free.body == {"nameAvailable": True}
    await sync_arm.create_registry("takenname1", group="somewhere")
    taken = await sync_arm.post(url, {"name": "TakenName1", "type": kind})
    assert taken.body["nameAvailable"] is False
    assert taken.body["reason"] == "AlreadyExists"
    assert taken.body["message"]
    invalid = await sync_arm.post(url, {"name": "no_underscores", "type": kind})
    assert (invalid.status, invalid.body["reason"]) == (200, "Invalid")
    wrong_type = await sync_arm.post(url, {"name": "freename1", "type": "Microsoft.Foo/bars"})
    assert wrong_type.status == 400
    scoped = await sync_arm.post(url, {"name": "takenname1", "type": kind,
                                       "autoGeneratedDomainNameLabelScope": "SubscriptionReuse"})
    assert scoped.body["nameAvailable"] is True
    assert scoped.body["availableLoginServerName"].startswith("takenname1-")


async def test_rules_are_listed_by_the_control_api(arm) -> None:
    listed = (await arm.control("GET", "rules")).body
    assert [r["id"] for r in listed] == [r.id for r in rules.RULES]


def test_every_rule_is_documented_with_its_source() -> None:
    text = DOCS.read_text()
    for rule in rules.RULES:
        assert f"`{rule.id}`" in text, rule.id
        assert rule.source in text, rule.source
        assert rule.source.startswith("https://learn.microsoft.com/")
    assert len({r.id for r in rules.RULES}) == len(rules.RULES)
