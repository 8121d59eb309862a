"""Drift on user-set fields only, arrays by key, and the patch that fixes it."""

from __future__ import annotations

from acr_operator.reconciler.descriptors import descriptor_for
from acr_operator.reconciler.diff import differences, patch_body

REGISTRY = descriptor_for("Registry")

ARM_REGISTRY = {
    "id": "/x", "location": "westus2", "tags": {"team": "a"},
    "sku": {"name": "Premium", "tier": "Premium"},
    "properties": {
        "adminUserEnabled": False, "publicNetworkAccess": "Enabled",
        "networkRuleSet": {"defaultAction": "Deny", "ipRules": [
            {"action": "Allow", "value": "1.2.3.4"}, {"action": "Allow", "value": "5.6.7.0/24"},
        ]},
        "policies": {"retentionPolicy": {"days": 7, "status": "disabled"}},
        "zoneRedundancy": "Disabled",
    },
    "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {
        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID":
            {"principalId": "p", "clientId": "c"},
    }},
}


def _desired(**changes):
    desired = {"location": "West US 2", "tags": {"team": "a"}, "sku": {"name": "Premium"},
               "properties": {"adminUserEnabled": False}}
    desired.update(changes)
    return desired


def test_no_drift_when_only_unset_fields_differ():
    assert differences(REGISTRY, _desired(), ARM_REGISTRY) == []


def test_changed_scalar_is_drift_and_patched_alone():
    desired = _desired(properties={"adminUserEnabled": True})
    paths = differences(REGISTRY, desired, ARM_REGISTRY)
    assert paths == ["properties.adminUserEnabled"]
    assert patch_body(REGISTRY, desired, paths) == {"properties": {"adminUserEnabled": True}}


def test_tags_compare_whole():
    assert differences(REGISTRY, _desired(tags={}), ARM_REGISTRY) == ["tags"]
    paths = differences(REGISTRY, _desired(tags={"team": "a", "env": "x"}), ARM_REGISTRY)
    assert patch_body(REGISTRY, _desired(tags={"team": "a", "env": "x"}), paths) == {
        "tags": {"team": "a", "env": "x"}}


def test_enums_compare_case_insensitively():
    desired = _desired(properties={"publicNetworkAccess": "enabled",
                                   "policies": {"retentionPolicy": {"status": "Disabled"}}})
    assert differences(REGISTRY, desired, ARM_REGISTRY) == []
    desired = _desired(identity={"type": "SystemAssigned,UserAssigned"})
    assert differences(REGISTRY, desired, ARM_REGISTRY) == []


def test_free_text_compares_exactly():
    scope = descriptor_for("ScopeMap")
    desired = {"properties": {"description": "Pull"}}
    assert differences(scope, desired, {"properties": {"description": "pull"}}) == [
        "properties.description"]


def test_arrays_of_objects_match_by_content_in_any_order():
    rules = {"defaultAction": "Deny", "ipRules": [{"value": "5.6.7.0/24"}, {"value": "1.2.3.4"}]}
    assert differences(REGISTRY, _desired(properties={"networkRuleSet": rules}), ARM_REGISTRY) == []
    rules["ipRules"][0] = {"value": "9.9.9.9"}
    desired = _desired(properties={"networkRuleSet": rules})
    paths = differences(REGISTRY, desired, ARM_REGISTRY)
    assert paths == ["properties.networkRuleSet.ipRules"]
    assert patch_body(REGISTRY, desired, paths) == {"properties": {"networkRuleSet": rules}}


def test_extra_array_items_in_azure_are_drift():
    rules = {"ipRules": [{"value": "1.2.3.4"}]}
    assert differences(REGISTRY, _desired(properties={"networkRuleSet": rules}), ARM_REGISTRY)


def test_arrays_of_objects_by_identifying_key():
    credential_set = descriptor_for("CredentialSet")
    actual = {"properties": {"authCredentials": [
        {"name": "Credential1", "usernameSecretIdentifier": "u", "credentialHealth": {}},
    ]}}
    same = {"properties": {"authCredentials": [{"name": "Credential1",
                                                 "usernameSecretIdentifier": "u"}]}}
    assert differences(credential_set, same, actual) == []
    other = {"properties": {"authCredentials": [{"name": "Credential1",
                                                  "usernameSecretIdentifier": "v"}]}}
    assert differences(credential_set, other, actual) == ["properties.authCredentials"]


def test_scalar_arrays_compare_as_sets():
    webhook = descriptor_for("Webhook")
    actual = {"properties": {"actions": ["push", "delete"]}}
    assert differences(webhook, {"properties": {"actions": ["delete", "push"]}}, actual) == []
    assert differences(webhook, {"properties": {"actions": ["push"]}}, actual)


def test_arm_ids_compare_case_insensitively():
    token = descriptor_for("Token")
    desired = {"properties": {"scopeMapId": "/subscriptions/S/resourceGroups/RG/x/scopeMaps/M"}}
    actual = {"properties": {"scopeMapId": "/subscriptions/s/resourcegroups/rg/x/scopemaps/m"}}
    assert differences(token, desired, actual) == []


def test_identity_map_keys_match_case_insensitively():
    key = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
    desired = _desired(identity={"type": "SystemAssigned, UserAssigned",
                                 "userAssignedIdentities": {key: {}}})
    assert differences(REGISTRY, desired, ARM_REGISTRY) == []


def test_create_only_and_write_only_fields_are_not_compared():
    desired = _desired(location="eastus", properties={"zoneRedundancy": "Enabled"})
    assert differences(REGISTRY, desired, ARM_REGISTRY) == []
    webhook = descriptor_for("Webhook")
    assert differences(webhook, {"properties": {"serviceUri": "https://x"}}, {"properties": {}}) == []


def test_kinds_without_patch_get_the_whole_body():
    pipeline = descriptor_for("ExportPipeline")
    desired = {"location": "westus", "properties": {"options": ["OverwriteBlobs"]}}
    paths = differences(pipeline, desired, {"location": "westus", "properties": {"options": []}})
    assert paths
    assert patch_body(pipeline, desired, paths) == desired


def test_patch_paths_are_remapped_to_the_patch_model():
    connected = descriptor_for("ConnectedRegistry")
    desired = {"properties": {"mode": "ReadOnly", "parent": {
        "id": "/p", "syncProperties": {"tokenId": "/t", "messageTtl": "P2D", "schedule": "* * * * *"},
    }}}
    actual = {"properties": {"mode": "ReadOnly", "parent": {
        "id": "/p", "syncProperties": {"tokenId": "/t", "messageTtl": "P1D"},
    }}}
    paths = differences(connected, desired, actual)
    assert patch_body(connected, desired, paths) == {"properties": {"syncProperties": {
        "tokenId": "/t", "messageTtl": "P2D", "schedule": "* * * * *"}}}


def test_empty_values_and_nulls_set_nothing():
    assert differences(REGISTRY, _desired(properties={"networkRuleSet": {"ipRules": []}}),
                       {**ARM_REGISTRY, "properties": {"networkRuleSet": {}}}) == []
    assert differences(REGISTRY, _desired(properties={"adminUserEnabled": None}), ARM_REGISTRY) == []
