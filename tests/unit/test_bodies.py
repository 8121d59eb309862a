"""Desired ARM bodies from specs, and status fields from ARM bodies."""

from __future__ import annotations

from acr_operator.reconciler import bodies
from acr_operator.reconciler.descriptors import descriptor_for


def test_registry_body_drops_placement():
    spec = {"azureName": "reg", "resourceGroup": "rg", "subscriptionId": "s",
            "location": "westus", "sku": {"name": "Basic"}, "tags": {"a": "b"}}
    body = bodies.desired_body(descriptor_for("Registry"), spec, references={}, secrets={})
    assert body == {"location": "westus", "sku": {"name": "Basic"}, "tags": {"a": "b"}}
    assert "azureName" in spec  # the spec itself is left alone


def test_child_body_resolves_references_and_drops_parent_fields():
    spec = {"registryRef": {"name": "main"}, "azureName": "tok01",
            "properties": {"scopeMapRef": {"name": "pull"}, "status": "enabled"}}
    body = bodies.desired_body(
        descriptor_for("Token"), spec,
        references={"properties.scopeMapId": "/subscriptions/s/.../scopeMaps/pull"}, secrets={},
    )
    assert body == {"properties": {"scopeMapId": "/subscriptions/s/.../scopeMaps/pull",
                                   "status": "enabled"}}


def test_archive_body_drops_its_extra_path_parameter():
    spec = {"registryId": "/x", "packageType": "rpm", "properties": {"publishedVersion": "1"}}
    body = bodies.desired_body(descriptor_for("Archive"), spec, references={}, secrets={})
    assert body == {"properties": {"publishedVersion": "1"}}


def test_secret_inputs_replace_their_refs():
    spec = {"registryRef": {"name": "main"}, "location": "westus", "properties": {
        "actions": ["push"], "serviceUriSecretRef": {"name": "s", "key": "uri"},
        "customHeadersSecretRef": {"name": "s"},
    }}
    body = bodies.desired_body(
        descriptor_for("Webhook"), spec, references={},
        secrets={"properties.serviceUri": "https://h", "properties.customHeaders": {"X": "1"}},
    )
    assert body["properties"] == {
        "actions": ["push"], "serviceUri": "https://h", "customHeaders": {"X": "1"},
    }


def test_observed_status_keeps_read_only_fields_and_drops_secrets():
    arm = {
        "id": "/id", "name": "n", "type": "t", "tags": {"a": "b"}, "location": "westus",
        "sku": {"name": "Basic", "tier": "Basic"}, "systemData": {"createdBy": "me"},
        "properties": {
            "loginServer": "n.azurecr.io", "provisioningState": "Succeeded",
            "networkRuleSet": {"ipRules": [{"value": "1.2.3.4", "action": "Allow"}]},
            "credentials": {"passwords": [{"name": "password1", "value": "p@ss"}]},
            "serviceUri": "https://secret",
        },
    }
    status = bodies.observed_status(descriptor_for("Webhook"), arm)
    assert status["provisioningState"] == "Succeeded"
    assert status["properties"]["loginServer"] == "n.azurecr.io"
    assert status["sku"]["tier"] == "Basic"
    assert status["properties"]["networkRuleSet"]["ipRules"][0]["value"] == "1.2.3.4"
    assert status["properties"]["credentials"]["passwords"] == [{"name": "password1"}]
    assert "serviceUri" not in status["properties"]
    assert not {"id", "name", "type", "tags"} & status.keys()


def test_write_only_hash_is_salted_and_changes_with_the_value():
    webhook = descriptor_for("Webhook")
    one = {"properties": {"serviceUri": "https://a"}}
    assert bodies.write_only_hash(webhook, one, salt="u1") == bodies.write_only_hash(
        webhook, one, salt="u1")
    assert bodies.write_only_hash(webhook, one, salt="u1") != bodies.write_only_hash(
        webhook, one, salt="u2")
    assert bodies.write_only_hash(webhook, {"properties": {"serviceUri": "https://b"}},
                                  salt="u1") != bodies.write_only_hash(webhook, one, salt="u1")
    assert bodies.write_only_hash(descriptor_for("Registry"), one, salt="u1") is None


def test_paths():
    data: dict = {}
    bodies.set_path(data, "a.b.c", 1)
    assert bodies.get_path(data, "a.b.c") == 1
    assert bodies.get_path(data, "a.x.c") is None
    bodies.delete_path(data, "a.b.c")
    assert data == {}
