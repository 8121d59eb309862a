"""Where resources live: ARM paths from placement, parents, references and secrets."""

from __future__ import annotations

import pytest

from acr_operator.reconciler.descriptors import descriptor_for, descriptors, parse_id
from acr_operator.reconciler.placement import (
    Waiting,
    place,
    resolve_references,
    resolve_secrets,
)
from tests.unit.fakes import REGISTRY_ID, SUBSCRIPTION, FakeResolver, registry, settings, webhook


def test_every_kind_has_a_descriptor_with_its_operations():
    assert len(descriptors()) == 15
    for descriptor in descriptors().values():
        if descriptor.one_shot:
            assert descriptor.operation("action")["method"] == "POST"
            continue
        assert descriptor.operations["get"] and descriptor.operations["create"]
        assert descriptor.operation("get")["method"] == "GET"
        assert descriptor.resource_path.endswith("{" + descriptor.name_parameter + "}")


def test_only_registry_checks_its_name():
    assert [k for k, d in descriptors().items() if d.name_check] == ["Registry"]


def test_parse_id_round_trips_and_rejects_other_types():
    params = parse_id("Registry", REGISTRY_ID)
    assert params == {"subscriptionId": SUBSCRIPTION, "resourceGroupName": "rg1",
                      "registryName": "myregistry"}
    assert descriptor_for("Registry").arm_path(params) == REGISTRY_ID
    assert parse_id("Registry", REGISTRY_ID + "/webhooks/w") is None


async def test_registry_path_uses_the_configured_subscription():
    placement = await place(descriptor_for("Registry"), registry(), resolver=FakeResolver(),
                            settings=settings())
    assert placement.path == REGISTRY_ID


async def test_registry_without_any_subscription_stalls():
    with pytest.raises(Waiting) as raised:
        await place(descriptor_for("Registry"), registry(), resolver=FakeResolver(),
                    settings=settings(ACR_OPERATOR_SUBSCRIPTION_ID=""))
    assert raised.value.stalled
    assert "spec.subscriptionId" in raised.value.message


async def test_child_path_from_parent_ref_or_id():
    resolver = FakeResolver()
    resolver.add_ready("Registry", "main", REGISTRY_ID)
    placement = await place(descriptor_for("Webhook"), webhook(), resolver=resolver,
                            settings=settings())
    assert placement.path == REGISTRY_ID + "/webhooks/hook01"

    by_id = webhook(registryId=REGISTRY_ID)
    del by_id["spec"]["registryRef"]
    placement = await place(descriptor_for("Webhook"), by_id, resolver=FakeResolver(),
                            settings=settings())
    assert placement.path == REGISTRY_ID + "/webhooks/hook01"


async def test_parent_not_ready_waits_unless_the_child_exists():
    resolver = FakeResolver()
    resolver.objects[("Registry", "default", "main")] = {"status": {"id": REGISTRY_ID, "conditions": [
        {"type": "Ready", "status": "False", "reason": "Updating"}]}}
    with pytest.raises(Waiting) as raised:
        await place(descriptor_for("Webhook"), webhook(), resolver=resolver, settings=settings())
    assert raised.value.reason == "WaitingForParent"
    assert "Updating" in raised.value.message
    created = webhook()
    created["status"] = {"id": REGISTRY_ID + "/webhooks/hook01"}
    placement = await place(descriptor_for("Webhook"), created, resolver=resolver,
                            settings=settings())
    assert placement.path.endswith("/webhooks/hook01")


async def test_archive_version_path_goes_through_the_archive():
    archive_id = REGISTRY_ID + "/packages/rpm/archives/arch01"
    resolver = FakeResolver()
    resolver.add_ready("Archive", "arch", archive_id)
    obj = webhook()
    obj["kind"] = "ArchiveVersion"
    obj["spec"] = {"archiveRef": {"name": "arch"}, "azureName": "v0001"}
    placement = await place(descriptor_for("ArchiveVersion"), obj, resolver=resolver,
                            settings=settings())
    assert placement.path == archive_id + "/versions/v0001"


async def test_references_resolve_to_ids_and_wait_with_the_name():
    token = webhook()
    token["kind"] = "Token"
    token["spec"] = {"registryRef": {"name": "main"},
                     "properties": {"scopeMapRef": {"name": "pull"}}}
    resolver = FakeResolver()
    with pytest.raises(Waiting) as raised:
        await resolve_references(descriptor_for("Token"), token, resolver=resolver, created=False)
    assert raised.value.reason == "WaitingForReference"
    assert raised.value.on == ("ScopeMap", "pull")
    resolver.add_ready("ScopeMap", "pull", REGISTRY_ID + "/scopeMaps/pull")
    resolved = await resolve_references(descriptor_for("Token"), token, resolver=resolver,
                                        created=False)
    assert resolved == {"properties.scopeMapId": REGISTRY_ID + "/scopeMaps/pull"}


async def test_array_references_join_the_given_ids():
    obj = webhook()
    obj["kind"] = "ConnectedRegistry"
    obj["spec"] = {"registryRef": {"name": "main"}, "properties": {
        "clientTokenIds": ["/given"], "clientTokenRefs": [{"name": "t1"}]}}
    resolver = FakeResolver()
    resolver.add_ready("Token", "t1", "/t1")
    resolved = await resolve_references(descriptor_for("ConnectedRegistry"), obj,
                                        resolver=resolver, created=False)
    assert resolved == {"properties.clientTokenIds": ["/given", "/t1"]}


async def test_secrets_by_key_and_whole():
    obj = webhook()
    obj["spec"]["properties"]["customHeadersSecretRef"] = {"name": "headers"}
    resolver = FakeResolver()
    resolver.secrets[("default", "hook")] = {"uri": "https://h"}
    resolver.secrets[("default", "headers")] = {"Authorization": "Basic x"}
    values = await resolve_secrets(descriptor_for("Webhook"), obj, resolver=resolver)
    assert values == {"properties.serviceUri": "https://h",
                      "properties.customHeaders": {"Authorization": "Basic x"}}


async def test_missing_secret_key_waits():
    resolver = FakeResolver()
    resolver.secrets[("default", "hook")] = {"other": "x"}
    with pytest.raises(Waiting) as raised:
        await resolve_secrets(descriptor_for("Webhook"), webhook(), resolver=resolver)
    assert raised.value.reason == "WaitingForSecret"
    assert "'uri'" in raised.value.message
