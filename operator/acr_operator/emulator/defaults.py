"""Resource documents as ARM returns them: the request body plus the server's fields.

A PUT body becomes a document by adding the envelope (`id`, `name`, `type`,
`systemData`, `tags` as `{}` when absent, `sku.tier`) and the server
defaults of each resource type, in the shape the recorded Azure answers and
the examples show. A PUT replaces: fields left out fall back to their
defaults, while the fields the server owns (creation time, login server,
generated identities) carry over from the previous document.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acr_operator.emulator import ids
from acr_operator.emulator.clock import arm_timestamp
from acr_operator.emulator.errors import bad_request
from acr_operator.emulator.store import Entry, Store

# The tenant every generated identity belongs to; the emulator has no directory.
TENANT_ID = "00000000-0000-0000-0000-000000000000"
LOGIN_SUFFIX = ".azurecr.io"

# Resource types with a location and tags (ARM tracked resources), below the provider.
TRACKED_TYPES = {"registries", "registries/replications", "registries/webhooks"}


@dataclass
class BuildContext:
    resource_id: str
    rid: ids.ResourceId
    body: dict
    existing: dict | None
    registry: dict | None
    now: float
    caller: tuple[str, str]

    @property
    def given(self) -> dict:
        return self.body.get("properties") or {}

    @property
    def old(self) -> dict:
        return (self.existing or {}).get("properties") or {}


def merge(base: object, changes: object) -> object:
    """Deep-merge `changes` into a copy of `base`; objects merge, everything else replaces."""
    if not isinstance(base, dict) or not isinstance(changes, dict):
        return copy.deepcopy(changes)
    result = copy.deepcopy(base)
    for name, value in changes.items():
        result[name] = merge(result[name], value) if name in result else copy.deepcopy(value)
    return result


def normalize_location(location: str) -> str:
    """ARM stores regions as lowercase names without spaces ("West US 2" -> "westus2")."""
    return location.replace(" ", "").lower()


def caller_identity(token: str | None) -> tuple[str, str]:
    """`(createdBy, createdByType)` for systemData, from the bearer token's claims if it has any."""
    claims = _jwt_claims(token or "")
    for claim in ("upn", "unique_name", "email"):
        if claim in claims:
            return str(claims[claim]), "User"
    if "appid" in claims or "azp" in claims:
        return str(claims.get("appid") or claims["azp"]), "Application"
    # An opaque token still stands for one stable caller.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"acr-operator-emulator:{token}")), "Application"


def _jwt_claims(token: str) -> dict:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def login_server(rid: ids.ResourceId, scope: str | None, salt: str = "") -> str:
    """`<name>.azurecr.io`, or `<name>-<hash>.azurecr.io` for a domain name label scope.

    The hash covers what the scope lets reuse the label: the tenant, the
    subscription, the resource group, or (NoReuse) this one resource instance.
    """
    name = rid.name.lower()
    if scope in (None, "Unsecure"):
        return name + LOGIN_SUFFIX
    parts = {
        "TenantReuse": [TENANT_ID],
        "SubscriptionReuse": [TENANT_ID, rid.subscription],
        "ResourceGroupReuse": [TENANT_ID, rid.subscription, rid.resource_group or ""],
        "NoReuse": [str(rid), salt],
    }.get(scope, [scope])
    digest = hashlib.sha256("|".join([*parts, name]).lower().encode()).digest()
    label = base64.b32encode(digest).decode().lower()[:16]
    return f"{name}-{label}{LOGIN_SUFFIX}"


def build(ctx: BuildContext) -> dict:
    """Build the stored document for a PUT body (or a PATCH merged into the previous one)."""
    short = ctx.rid.short_type.lower()
    doc: dict = {"id": ctx.resource_id, "name": ctx.rid.name, "type": ctx.rid.type}
    if short in TRACKED_TYPES or "location" in ctx.body:
        doc["location"] = normalize_location(ctx.body.get("location") or _home_region(ctx))
    if short in TRACKED_TYPES:
        doc["tags"] = copy.deepcopy(ctx.body.get("tags") or {})
    if "sku" in ctx.body:
        doc["sku"] = {"name": ctx.body["sku"]["name"], "tier": ctx.body["sku"]["name"]}
    if ctx.body.get("identity"):
        doc["identity"] = _identity(ctx.body["identity"], (ctx.existing or {}).get("identity"))
    doc["systemData"] = _system_data(ctx)
    builder = _PROPERTY_BUILDERS.get(short, _plain_properties)
    doc["properties"] = builder(ctx)
    return doc


def _home_region(ctx: BuildContext) -> str:
    return (ctx.registry or {}).get("location", "")


def _system_data(ctx: BuildContext) -> dict:
    who, kind = ctx.caller
    stamp = arm_timestamp(ctx.now)
    old = (ctx.existing or {}).get("systemData") or {}
    return {
        "createdBy": old.get("createdBy", who),
        "createdByType": old.get("createdByType", kind),
        "createdAt": old.get("createdAt", stamp),
        "lastModifiedBy": who,
        "lastModifiedByType": kind,
        "lastModifiedAt": stamp,
    }


def _identity(given: dict, old: dict | None) -> dict:
    """Fill the read-only ids of a managed identity, keeping those already generated."""
    old = old or {}
    identity = copy.deepcopy(given)
    kinds = str(given.get("type", "")).replace(" ", "").split(",")
    if "SystemAssigned" in kinds:
        identity["principalId"] = old.get("principalId") or str(uuid.uuid4())
        identity["tenantId"] = old.get("tenantId") or TENANT_ID
    else:
        identity.pop("principalId", None)
        identity.pop("tenantId", None)
    old_users = old.get("userAssignedIdentities") or {}
    users = identity.get("userAssignedIdentities")
    if "UserAssigned" in kinds and isinstance(users, dict):
        for name in users:
            previous = old_users.get(name) or {}
            users[name] = {
                "principalId": previous.get("principalId") or str(uuid.uuid4()),
                "clientId": previous.get("clientId") or str(uuid.uuid4()),
            }
    return identity


def _creation_date(ctx: BuildContext) -> str:
    return ctx.old.get("creationDate") or arm_timestamp(ctx.now)


def _registry_properties(ctx: BuildContext) -> dict:
    given = ctx.given
    # A changed scope stays in the document, so that the create-only rule can reject it.
    scope = given.get("autoGeneratedDomainNameLabelScope") or ctx.old.get(
        "autoGeneratedDomainNameLabelScope", "Unsecure")
    defaults = {
        "adminUserEnabled": False,
        "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
        "encryption": {"status": "disabled"},
        "dataEndpointEnabled": False,
        "publicNetworkAccess": "Enabled",
        "networkRuleBypassOptions": "AzureServices",
        "networkRuleBypassAllowedForTasks": False,
        "zoneRedundancy": "Disabled",
        "anonymousPullEnabled": False,
        "metadataSearch": "Disabled",
        "roleAssignmentMode": "LegacyRegistryPermissions",
    }
    props = {
        "loginServer": ctx.old.get("loginServer") or login_server(ctx.rid, scope, uuid.uuid4().hex),
        "creationDate": _creation_date(ctx),
        "provisioningState": "Succeeded",
        **merge(defaults, given),
        "autoGeneratedDomainNameLabelScope": scope,
        # Derived from other resources whenever the registry is read.
        "dataEndpointHostNames": [],
        "privateEndpointConnections": [],
    }
    props["networkRuleSet"]["ipRules"] = [
        {"action": "Allow", **rule} for rule in props["networkRuleSet"].get("ipRules") or []]
    props["policies"] = _policies(given.get("policies"), ctx.now)
    props["encryption"] = _encryption(props["encryption"], ctx.old.get("encryption"), ctx.now)
    return props


def _policies(given: dict | None, now: float) -> dict:
    stamp = arm_timestamp(now)
    defaults = {
        "quarantinePolicy": {"status": "disabled"},
        "trustPolicy": {"type": "Notary", "status": "disabled"},
        "retentionPolicy": {"days": 7, "status": "disabled"},
        "exportPolicy": {"status": "enabled"},
        "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
        "softDeletePolicy": {"retentionDays": 7, "status": "disabled"},
    }
    policies = merge(defaults, given or {})
    # The recorded responses stamp these on every write of the registry.
    policies["retentionPolicy"]["lastUpdatedTime"] = stamp
    policies["softDeletePolicy"]["lastUpdatedTime"] = stamp
    return policies


def _encryption(encryption: dict, old: dict | None, now: float) -> dict:
    vault = encryption.get("keyVaultProperties")
    if not isinstance(vault, dict) or not vault.get("keyIdentifier"):
        return encryption
    key = vault["keyIdentifier"].rstrip("/")
    old_vault = (old or {}).get("keyVaultProperties") or {}
    if old_vault.get("keyIdentifier", "").rstrip("/") == key and "versionedKeyIdentifier" in old_vault:
        # Same key as before: the server-side rotation state carries over.
        for name in ("versionedKeyIdentifier", "keyRotationEnabled", "lastKeyRotationTimestamp"):
            vault[name] = old_vault[name]
        return encryption
    # A key URL without a version (.../keys/<name>) turns automatic rotation on.
    versioned = key.split("/keys/", 1)[-1].count("/") >= 1
    vault["versionedKeyIdentifier"] = key if versioned else f"{key}/{uuid.uuid4().hex}"
    vault["keyRotationEnabled"] = not versioned
    vault["lastKeyRotationTimestamp"] = arm_timestamp(now)
    return encryption


def _replication_properties(ctx: BuildContext) -> dict:
    defaults = {"regionEndpointEnabled": True, "zoneRedundancy": "Disabled"}
    return {
        "provisioningState": "Succeeded",
        "status": {"displayStatus": "Ready", "timestamp": arm_timestamp(ctx.now)},
        **merge(defaults, ctx.given),
    }


def _webhook_properties(ctx: BuildContext) -> dict:
    # serviceUri and customHeaders are write-only; the caller keeps them in `hidden`.
    given = {k: v for k, v in ctx.given.items() if k not in ("serviceUri", "customHeaders")}
    return {"status": "enabled", **given, "provisioningState": "Succeeded"}


def _scope_map_properties(ctx: BuildContext) -> dict:
    return {
        **ctx.given,
        "type": "UserDefined",
        "creationDate": _creation_date(ctx),
        "provisioningState": "Succeeded",
    }


def _token_properties(ctx: BuildContext) -> dict:
    props = {"creationDate": _creation_date(ctx), "status": "enabled", **ctx.given}
    credentials = props.get("credentials")
    if isinstance(credentials, dict):
        credentials = copy.deepcopy(credentials)
        credentials["certificates"] = [_certificate(c) for c in credentials.get("certificates") or []]
        if not credentials["certificates"]:
            del credentials["certificates"]
        old_passwords = {p.get("name"): p for p in
                         (ctx.old.get("credentials") or {}).get("passwords") or []}
        passwords = [{**old_passwords.get(p.get("name"), {}), **p}
                     for p in credentials.get("passwords") or []]
        if passwords:
            credentials["passwords"] = passwords
        props["credentials"] = credentials
    props["provisioningState"] = "Succeeded"
    return props


def _certificate(cert: dict) -> dict:
    """Replace the PEM a client sent by the thumbprint and expiry ARM reports."""
    result = {k: v for k, v in cert.items() if k != "encodedPemCertificate"}
    encoded = cert.get("encodedPemCertificate")
    if not encoded:
        return result
    try:
        loaded = x509.load_pem_x509_certificate(base64.b64decode(encoded))
    except (ValueError, binascii.Error):
        # NOTE: code not confirmed from a recording.
        raise bad_request(
            "InvalidCertificate",
            f"The certificate '{cert.get('name')}' is not a base64-encoded PEM certificate.",
            target="properties.credentials.certificates") from None
    der = loaded.public_bytes(Encoding.DER)
    result["thumbprint"] = hashlib.sha1(der).hexdigest()
    result["expiry"] = arm_timestamp(loaded.not_valid_after_utc.timestamp())
    return result


def _cache_rule_properties(ctx: BuildContext) -> dict:
    return {**ctx.given, "creationDate": _creation_date(ctx), "provisioningState": "Succeeded"}


def _credential_set_properties(ctx: BuildContext) -> dict:
    props = {**ctx.given, "creationDate": _creation_date(ctx), "provisioningState": "Succeeded"}
    props["authCredentials"] = [{**c, "credentialHealth": {"status": "Healthy"}}
                                for c in ctx.given.get("authCredentials") or []]
    return props


# Fields of a connected registry that its on-premises instance reports when it connects;
# a write of the cloud resource never changes them.
_CONNECTED_REGISTRY_REPORTED = ("version", "lastActivityTime", "statusDetails", "loginServer")


def _connected_registry_properties(ctx: BuildContext) -> dict:
    defaults = {"logging": {"logLevel": "Information", "auditLogStatus": "Disabled"},
                "clientTokenIds": [], "notificationsList": []}
    props = {
        **merge(defaults, ctx.given),
        "connectionState": ctx.old.get("connectionState", "Offline"),
        "activation": ctx.old.get("activation", {"status": "Inactive"}),
        "provisioningState": "Succeeded",
    }
    props.update({k: copy.deepcopy(ctx.old[k]) for k in _CONNECTED_REGISTRY_REPORTED
                  if k in ctx.old})
    return props


def _export_pipeline_properties(ctx: BuildContext) -> dict:
    defaults = {"target": {"storageAccessMode": "SasToken"}, "options": []}
    return {**merge(defaults, ctx.given), "provisioningState": "Succeeded"}


def _import_pipeline_properties(ctx: BuildContext) -> dict:
    defaults = {
        "source": {"type": "AzureStorageBlobContainer", "storageAccessMode": "SasToken"},
        "trigger": {"sourceTrigger": {"status": "Enabled"}},
        "options": [],
    }
    return {**merge(defaults, ctx.given), "provisioningState": "Succeeded"}


def _private_endpoint_connection_properties(ctx: BuildContext) -> dict:
    # NOTE: a PUT for a connection that no private endpoint requested is accepted, and
    # makes a connection without an endpoint, because the document's example shows a 201
    # for such a create. Whether Azure rejects it was not checked. The operator never sends
    # one: it waits for the request (reason ConnectionNotRequested).
    props = {"privateLinkServiceConnectionState": {"actionsRequired": "None"}}
    # The private endpoint belongs to Microsoft.Network; a PUT here only changes the state.
    if "privateEndpoint" in ctx.old:
        props["privateEndpoint"] = copy.deepcopy(ctx.old["privateEndpoint"])
    return {**merge(props, ctx.given), "provisioningState": "Succeeded"}


def _archive_properties(ctx: BuildContext) -> dict:
    server = (ctx.registry or {}).get("properties", {}).get("loginServer", "")
    prefix = ctx.given.get("repositoryEndpointPrefix") or ctx.rid.name.lower()
    package_type = ctx.rid.names[1].lower()
    return {**ctx.given, "repositoryEndpoint": f"https://{server}/pkg/{package_type}/{prefix}",
            "provisioningState": "Succeeded"}


def _plain_properties(ctx: BuildContext) -> dict:
    return {**ctx.given, "provisioningState": "Succeeded"}


_PROPERTY_BUILDERS: dict[str, Callable[[BuildContext], dict]] = {
    "registries": _registry_properties,
    "registries/replications": _replication_properties,
    "registries/webhooks": _webhook_properties,
    "registries/scopemaps": _scope_map_properties,
    "registries/tokens": _token_properties,
    "registries/cacherules": _cache_rule_properties,
    "registries/credentialsets": _credential_set_properties,
    "registries/connectedregistries": _connected_registry_properties,
    "registries/exportpipelines": _export_pipeline_properties,
    "registries/importpipelines": _import_pipeline_properties,
    "registries/privateendpointconnections": _private_endpoint_connection_properties,
    "registries/packages/archives": _archive_properties,
}


def patch_body(arm_type: str, existing: dict, changes: dict) -> dict:
    """Build the PUT-shaped body that applying a PATCH to a stored document amounts to.

    Properties merge deeply; tags, sku and identity are replaced as a whole,
    as ARM's PATCH does for them.
    """
    body = {k: copy.deepcopy(v) for k, v in existing.items()
            if k in ("location", "tags", "sku", "identity", "properties")}
    for name in ("tags", "sku", "identity"):
        if name in changes:
            body[name] = copy.deepcopy(changes[name])
    props = copy.deepcopy(changes.get("properties") or {})
    if arm_type.lower().endswith("/connectedregistries") and "syncProperties" in props:
        # The update model puts the parent's sync settings at the top of properties.
        props.setdefault("parent", {})["syncProperties"] = props.pop("syncProperties")
    body["properties"] = merge(body.get("properties") or {}, props)
    return body


def set_state(doc: dict, state: str, now: float) -> None:
    """Set `provisioningState`, with the status block replications show beside it."""
    props = doc.setdefault("properties", {})
    props["provisioningState"] = state
    if doc["type"].lower().endswith("/replications"):
        status = {"timestamp": arm_timestamp(now)}
        if state == "Succeeded":
            status["displayStatus"] = "Ready"
        props["status"] = status


def present(store: Store, entry: Entry) -> dict:
    """The document a GET returns: the stored one plus fields derived from other resources."""
    doc = copy.deepcopy(entry.doc)
    if entry.type.lower() != ids.REGISTRY_TYPE.lower():
        return doc
    props = doc.setdefault("properties", {})
    connections = store.children(f"{entry.id}/privateEndpointConnections")
    props["privateEndpointConnections"] = [copy.deepcopy(c.doc) for c in connections]
    if props.get("dataEndpointEnabled"):
        host = props.get("loginServer", "").removesuffix(LOGIN_SUFFIX)
        regions = [doc.get("location", "")] + [
            r.doc.get("location", "") for r in store.children(f"{entry.id}/replications")]
        props["dataEndpointHostNames"] = [f"{host}.{region}.data{LOGIN_SUFFIX}"
                                          for region in dict.fromkeys(regions)]
    else:
        props["dataEndpointHostNames"] = []
    return doc


def finish(store: Store, doc: dict, outcome: str, now: float) -> None:
    """Put a document in its final state once its write has ended with `outcome`."""
    set_state(doc, outcome, now)
    if outcome == "Succeeded" and doc["type"].lower().endswith("/pipelineruns"):
        doc["properties"]["response"] = _pipeline_run_response(store, doc, now)


def _pipeline_run_response(store: Store, doc: dict, now: float) -> dict:
    request = doc["properties"].get("request") or {}
    pipeline = store.get(str(request.get("pipelineResourceId", "")))
    settings = (pipeline.doc.get("properties") or {}) if pipeline else {}
    response = {
        "status": "Succeeded",
        "progress": {"percentage": "100"},
        "startTime": doc["systemData"]["lastModifiedAt"],
        "finishTime": arm_timestamp(now),
    }
    for side in ("source", "target"):
        blob = request.get(side)
        container = settings.get(side)
        if isinstance(blob, dict) and isinstance(container, dict):
            # The response describes the pipeline's container (type AzureStorageBlobContainer)
            # with the blob's URL.
            uri = f"{container.get('uri', '').rstrip('/')}/{blob.get('name', '')}"
            response[side] = {"type": "AzureStorageBlobContainer", **container, "uri": uri}
    if "catalogDigest" in request:
        response["catalogDigest"] = request["catalogDigest"]
    if request.get("artifacts"):
        response["importedArtifacts"] = list(request["artifacts"])
    return response
