"""Service rules of Azure Container Registry that the schema cannot express.

Each rule states a constraint of the service in one line, links the public
documentation page it comes from, and checks a write (or an action) before
the emulator stores anything. A failing rule gets the response Azure sends:
400 (or 409 for a name clash) with an error code. docs/emulator-rules.md lists them.

Where no recorded answer shows the error code Azure uses, the code below is
a plausible one chosen for the emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from acr_operator.emulator import ids
from acr_operator.emulator.defaults import normalize_location
from acr_operator.emulator.errors import ArmError, bad_request, conflict
from acr_operator.emulator.store import Store

_DOCS = "https://learn.microsoft.com/azure/container-registry/"
SKUS = _DOCS + "container-registry-skus"
ZONES = _DOCS + "zone-redundancy"
GEO = _DOCS + "container-registry-geo-replication"
PRIVATE_LINK = _DOCS + "container-registry-private-link"
RETENTION = _DOCS + "container-registry-retention-policy"
NETWORKS = _DOCS + "container-registry-access-selected-networks"
TOKENS = _DOCS + "container-registry-repository-scoped-permissions"
TRANSFER = _DOCS + "container-registry-transfer-images"
CONNECTED = _DOCS + "intro-connected-registry"
DATA_ENDPOINTS = _DOCS + "container-registry-dedicated-data-endpoints"
ANONYMOUS_PULL = _DOCS + "anonymous-pull-access"
CUSTOMER_KEYS = _DOCS + "tutorial-customer-managed-keys"
ARTIFACT_CACHE = _DOCS + "container-registry-artifact-cache"
ADMIN_USER = _DOCS + "container-registry-authentication#admin-account"
NAME_RULES = ("https://learn.microsoft.com/azure/azure-resource-manager/management/"
              "resource-name-rules#microsoftcontainerregistry")

# Names of the scope maps every registry has without creating them.
BUILT_IN_SCOPE_MAPS = ("_repositories_admin", "_repositories_pull", "_repositories_push",
                       "_repositories_pull_metadata_read", "_repositories_push_metadata_write")

# Webhooks a registry may have, per SKU.
WEBHOOK_LIMITS = {"Classic": 2, "Basic": 2, "Standard": 10, "Premium": 500}


@dataclass(frozen=True)
class RuleContext:
    store: Store
    # create, replace, update, delete or action
    kind: str
    rid: ids.ResourceId
    operation_id: str
    # The document the write would store; None for deletes and actions.
    doc: dict | None = None
    existing: dict | None = None
    # The registry the request concerns: the new document for a registry write,
    # the parent registry for a child.
    registry: dict | None = None
    body: object = None

    @property
    def short_type(self) -> str:
        return self.rid.short_type.lower()

    @property
    def writes(self) -> bool:
        return self.kind in ("create", "replace", "update")

    def prop(self, *path: str) -> object:
        value: object = (self.doc or {}).get("properties") or {}
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return value

    @property
    def sku(self) -> str:
        return ((self.registry or {}).get("sku") or {}).get("name", "")


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    source: str
    check: Callable[[RuleContext], ArmError | None]
    # The error code of the response, and its status.
    code: str = ""
    status: int = 400


def enforce(ctx: RuleContext) -> None:
    """Raise the error of the first rule that the request breaks."""
    for rule in RULES:
        error = rule.check(ctx)
        if error is not None:
            raise error


def _premium_feature(feature: str, code: str, applies: Callable[[RuleContext], bool]):
    def check(ctx: RuleContext) -> ArmError | None:
        if ctx.writes and applies(ctx) and ctx.sku != "Premium":
            return bad_request(
                code, f"{feature} requires a registry of the Premium SKU; the registry "
                      f"'{ctx.rid.registry.name}' has the {ctx.sku or 'unknown'} SKU.")
        return None
    return check


def _registry_write(ctx: RuleContext) -> bool:
    return ctx.short_type == "registries"


def _child_write(*short_types: str) -> Callable[[RuleContext], bool]:
    return lambda ctx: ctx.kind == "create" and ctx.short_type in short_types


def _restricts_network(ctx: RuleContext) -> bool:
    rules = ctx.prop("networkRuleSet") or {}
    return _registry_write(ctx) and bool(rules.get("ipRules") or rules.get("defaultAction") == "Deny")


def _anonymous_pull(ctx: RuleContext) -> ArmError | None:
    if (ctx.writes and _registry_write(ctx) and ctx.prop("anonymousPullEnabled") is True
            and ctx.sku not in ("Standard", "Premium")):
        return bad_request(
            "AnonymousPullNotSupported",
            f"Anonymous pull access requires the Standard or Premium SKU; the registry "
            f"'{ctx.rid.name}' has the {ctx.sku} SKU.")
    return None


def _unique_login_server(ctx: RuleContext) -> ArmError | None:
    if ctx.kind != "create" or not _registry_write(ctx):
        return None
    server = str(ctx.prop("loginServer")).lower()
    for entry in ctx.store.of_type(ids.REGISTRY_TYPE):
        if str(entry.doc.get("properties", {}).get("loginServer", "")).lower() == server:
            return conflict(
                "AlreadyInUse",
                f"The registry DNS name {server} is already in use. Check a name first with "
                f"the checkNameAvailability operation.")
    return None


def _create_only(field: str, code: str, *types: str):
    def check(ctx: RuleContext) -> ArmError | None:
        if ctx.kind not in ("replace", "update") or ctx.short_type not in types:
            return None
        if field == "location":
            old, new = (ctx.existing or {}).get("location"), (ctx.doc or {}).get("location")
        else:
            old = ((ctx.existing or {}).get("properties") or {}).get(field)
            new = ctx.prop(field)
        if old == new:
            return None
        if field == "location":
            return bad_request(
                code, f"The resource '{ctx.rid.name}' already exists in location '{old}'. A "
                      f"resource with the same name cannot be created in location '{new}'.")
        return bad_request(
            code, f"The property '{field}' cannot be changed after '{ctx.rid.name}' was created "
                  f"(from {old!r} to {new!r}).", target=f"properties.{field}")
    return check


def _encryption_at_create(ctx: RuleContext) -> ArmError | None:
    if ctx.kind not in ("replace", "update") or not _registry_write(ctx):
        return None
    old = (((ctx.existing or {}).get("properties") or {}).get("encryption") or {}).get("status")
    new = (ctx.prop("encryption") or {}).get("status")
    if old != new:
        return bad_request(
            "EncryptionChangeNotAllowed",
            f"Encryption with a customer-managed key can be set only when a registry is "
            f"created, and never disabled; '{ctx.rid.name}' has encryption {old}.",
            target="properties.encryption.status")
    return None


def _replication_regions(ctx: RuleContext) -> ArmError | None:
    if not ctx.writes or ctx.short_type != "registries/replications":
        return None
    region = normalize_location((ctx.doc or {}).get("location", ""))
    if region == normalize_location((ctx.registry or {}).get("location", "")):
        return bad_request(
            "ReplicationInHomeRegion",
            f"The registry '{ctx.rid.registry.name}' already lives in '{region}'; a replication "
            f"must be in another region.", target="location")
    siblings = ctx.store.children(f"{ctx.rid.registry}/replications")
    for entry in siblings:
        if ids.key(entry.id) != ids.key(str(ctx.rid)) and entry.doc.get("location") == region:
            return bad_request(
                "ReplicationAlreadyExists",
                f"The registry '{ctx.rid.registry.name}' already has the replication "
                f"'{entry.doc['name']}' in '{region}'; a registry has one replication per region.",
                target="location")
    return None


def _sibling(ctx: RuleContext, resource_id: object, collection: str) -> bool:
    """Tell whether `resource_id` names an existing `collection` resource of the same registry."""
    rid = ids.parse(str(resource_id or ""))
    if rid is None or len(rid.types) != 2 or rid.types[1].lower() != collection.lower():
        return False
    if ids.key(str(rid.registry)) != ids.key(str(ctx.rid.registry)):
        return False
    return ctx.store.get(str(rid)) is not None


def _token_scope_map(ctx: RuleContext) -> ArmError | None:
    if not ctx.writes or ctx.short_type != "registries/tokens":
        return None
    scope_map = ctx.prop("scopeMapId")
    name = str(scope_map or "").rsplit("/", 1)[-1]
    if scope_map and (name in BUILT_IN_SCOPE_MAPS or _sibling(ctx, scope_map, "scopeMaps")):
        return None
    return bad_request(
        "ScopeMapNotFound",
        f"The scope map '{scope_map}' of token '{ctx.rid.name}' does not exist in registry "
        f"'{ctx.rid.registry.name}'; create it first.", target="properties.scopeMapId")


def _connected_registry_tokens(ctx: RuleContext) -> ArmError | None:
    if not ctx.writes or ctx.short_type != "registries/connectedregistries":
        return None
    wanted = [("properties.parent.syncProperties.tokenId", ctx.prop("parent", "syncProperties",
                                                                     "tokenId"))]
    wanted += [("properties.clientTokenIds", t) for t in ctx.prop("clientTokenIds") or []]
    for target, token in wanted:
        if token and not _sibling(ctx, token, "tokens"):
            return bad_request(
                "TokenNotFound",
                f"The token '{token}' named by connected registry '{ctx.rid.name}' does not "
                f"exist in registry '{ctx.rid.registry.name}'.", target=target)
    return None


def _connected_registry_data_endpoint(ctx: RuleContext) -> ArmError | None:
    if ctx.kind != "create" or ctx.short_type != "registries/connectedregistries":
        return None
    if ((ctx.registry or {}).get("properties") or {}).get("dataEndpointEnabled"):
        return None
    return bad_request(
        "DataEndpointRequired",
        f"A connected registry needs the dedicated data endpoint of registry "
        f"'{ctx.rid.registry.name}'; enable dataEndpointEnabled first.")


def _cache_rule_credential_set(ctx: RuleContext) -> ArmError | None:
    if not ctx.writes or ctx.short_type != "registries/cacherules":
        return None
    credential_set = ctx.prop("credentialSetResourceId")
    if not credential_set or _sibling(ctx, credential_set, "credentialSets"):
        return None
    return bad_request(
        "CredentialSetNotFound",
        f"The credential set '{credential_set}' of cache rule '{ctx.rid.name}' does not exist.",
        target="properties.credentialSetResourceId")


def _pipeline_run_pipeline(ctx: RuleContext) -> ArmError | None:
    if not ctx.writes or ctx.short_type != "registries/pipelineruns":
        return None
    pipeline = ctx.prop("request", "pipelineResourceId")
    if (_sibling(ctx, pipeline, "exportPipelines") or _sibling(ctx, pipeline, "importPipelines")):
        return None
    return bad_request(
        "PipelineNotFound",
        f"The pipeline '{pipeline}' of pipeline run '{ctx.rid.name}' does not exist.",
        target="properties.request.pipelineResourceId")


def _webhook_limit(ctx: RuleContext) -> ArmError | None:
    if ctx.kind != "create" or ctx.short_type != "registries/webhooks":
        return None
    limit = WEBHOOK_LIMITS.get(ctx.sku, 2)
    count = len(ctx.store.children(f"{ctx.rid.registry}/webhooks"))
    if count < limit:
        return None
    return bad_request(
        "QuotaExceeded",
        f"The registry '{ctx.rid.registry.name}' has {count} webhooks, the limit of the "
        f"{ctx.sku} SKU.")


def _admin_user(ctx: RuleContext) -> ArmError | None:
    if ctx.operation_id not in ("Registries_ListCredentials", "Registries_RegenerateCredential"):
        return None
    if ((ctx.registry or {}).get("properties") or {}).get("adminUserEnabled"):
        return None
    return bad_request(
        "AdminUserDisabled",
        f"The admin user of registry '{ctx.rid.name}' is disabled; set "
        f"properties.adminUserEnabled to true to use admin credentials.")


def _password_names(ctx: RuleContext) -> ArmError | None:
    allowed = {"Registries_RegenerateCredential": ("password", "password2"),
               "Registries_GenerateCredentials": ("password1", "password2")}.get(ctx.operation_id)
    name = (ctx.body or {}).get("name") if isinstance(ctx.body, dict) else None
    if allowed is None or name is None or name in allowed:
        return None
    return bad_request(
        "InvalidPasswordName",
        f"The password name '{name}' is not one of {', '.join(allowed)}.", target="name")


def _premium_rule(rule_id: str, statement: str, source: str, feature: str, code: str,
                  applies: Callable[[RuleContext], bool]) -> Rule:
    return Rule(rule_id, statement, source, _premium_feature(feature, code, applies), code)


def _create_only_rule(rule_id: str, statement: str, source: str, field: str, code: str,
                      *types: str) -> Rule:
    return Rule(rule_id, statement, source, _create_only(field, code, *types), code)


def _registry_flag(*path: str, value: object) -> Callable[[RuleContext], bool]:
    return lambda ctx: _registry_write(ctx) and ctx.prop(*path) == value


# NOTE: codes not confirmed from a recording, except AlreadyInUse (seen in public CLI output).
RULES: list[Rule] = [
    Rule("registry-name-unique",
         "A registry's login server name is unique across Azure, so a registry name in use "
         "anywhere else cannot be created again.",
         NAME_RULES, _unique_login_server, "AlreadyInUse", 409),
    _premium_rule("network-rules-premium",
                  "Network rules (IP rules, or a default action of Deny) need the Premium SKU.",
                  NETWORKS, "A network rule set", "NetworkRuleSetNotSupported",
                  _restricts_network),
    _premium_rule("public-network-access-premium",
                  "Turning public network access off needs the Premium SKU, as private "
                  "endpoints do.",
                  PRIVATE_LINK, "Disabling public network access",
                  "PublicNetworkAccessNotSupported",
                  _registry_flag("publicNetworkAccess", value="Disabled")),
    _premium_rule("data-endpoint-premium",
                  "Dedicated data endpoints need the Premium SKU.",
                  DATA_ENDPOINTS, "A dedicated data endpoint", "DataEndpointNotSupported",
                  _registry_flag("dataEndpointEnabled", value=True)),
    _premium_rule("retention-policy-premium",
                  "A retention policy for untagged manifests can be enabled only on Premium "
                  "registries.",
                  RETENTION, "A retention policy", "RetentionPolicyNotSupported",
                  _registry_flag("policies", "retentionPolicy", "status", value="enabled")),
    _premium_rule("customer-managed-key-premium",
                  "Encryption with a customer-managed key needs the Premium SKU.",
                  CUSTOMER_KEYS, "Encryption with a customer-managed key",
                  "EncryptionNotSupported",
                  _registry_flag("encryption", "status", value="enabled")),
    Rule("customer-managed-key-at-create",
         "Encryption with a customer-managed key is set when the registry is created and cannot "
         "be turned on or off later.",
         CUSTOMER_KEYS, _encryption_at_create, "EncryptionChangeNotAllowed"),
    Rule("anonymous-pull-standard",
         "Anonymous pull access needs the Standard or Premium SKU.",
         ANONYMOUS_PULL, _anonymous_pull, "AnonymousPullNotSupported"),
    _create_only_rule("location-create-only",
                      "A resource keeps the location it was created in, so a PUT naming another "
                      "location fails.",
                      GEO, "location", "InvalidResourceLocation",
                      "registries", "registries/replications", "registries/webhooks"),
    # Zone redundancy itself is not Premium-only: the zone-redundancy page states that every
    # tier has it, and the document's own example creates a zone-redundant Standard registry.
    _create_only_rule("zone-redundancy-create-only",
                      "Zone redundancy of a registry or replication is chosen at creation and "
                      "cannot change.",
                      ZONES, "zoneRedundancy", "PropertyChangeNotAllowed",
                      "registries", "registries/replications"),
    _create_only_rule("domain-name-label-scope-create-only",
                      "The domain name label scope of a registry is chosen at creation and "
                      "cannot change.",
                      NAME_RULES, "autoGeneratedDomainNameLabelScope", "PropertyChangeNotAllowed",
                      "registries"),
    _premium_rule("replications-premium",
                  "Geo-replications need a Premium registry.",
                  GEO, "Geo-replication", "GeoReplicationNotSupported",
                  _child_write("registries/replications")),
    Rule("replication-region-unique",
         "A registry has at most one replication per region, and none in its home region.",
         GEO, _replication_regions, "ReplicationAlreadyExists or ReplicationInHomeRegion"),
    _premium_rule("private-endpoints-premium",
                  "Private endpoint connections need a Premium registry.",
                  PRIVATE_LINK, "A private endpoint connection", "PrivateEndpointNotSupported",
                  _child_write("registries/privateendpointconnections")),
    _premium_rule("connected-registries-premium",
                  "Connected registries need a Premium registry.",
                  CONNECTED, "A connected registry", "ConnectedRegistryNotSupported",
                  _child_write("registries/connectedregistries")),
    # NOTE: taken from the connected registry setup steps as remembered, not from an opened page.
    Rule("connected-registry-data-endpoint",
         "A connected registry needs the dedicated data endpoint of its parent registry enabled.",
         CONNECTED, _connected_registry_data_endpoint, "DataEndpointRequired"),
    Rule("connected-registry-tokens",
         "The sync token and client tokens of a connected registry must exist in its registry.",
         CONNECTED, _connected_registry_tokens, "TokenNotFound"),
    _premium_rule("pipelines-premium",
                  "Export pipelines, import pipelines and pipeline runs need a Premium registry.",
                  TRANSFER, "Image transfer", "PipelineNotSupported",
                  _child_write("registries/exportpipelines", "registries/importpipelines",
                               "registries/pipelineruns")),
    Rule("pipeline-run-pipeline",
         "A pipeline run names an existing export or import pipeline of its registry.",
         TRANSFER, _pipeline_run_pipeline, "PipelineNotFound"),
    Rule("token-scope-map",
         "A token names a scope map that exists in its registry, or one of the built-in "
         "_repositories_* scope maps.",
         TOKENS, _token_scope_map, "ScopeMapNotFound"),
    Rule("cache-rule-credential-set",
         "A cache rule's credential set, when given, must exist in its registry.",
         ARTIFACT_CACHE, _cache_rule_credential_set, "CredentialSetNotFound"),
    Rule("webhook-limit",
         "A registry has at most 2 webhooks on Basic, 10 on Standard and 500 on Premium.",
         SKUS, _webhook_limit, "QuotaExceeded"),
    Rule("admin-user-credentials",
         "Admin credentials can be listed or regenerated only while the admin user is enabled.",
         ADMIN_USER, _admin_user, "AdminUserDisabled"),
    Rule("password-names",
         "Admin passwords are named password and password2, token passwords password1 and "
         "password2.",
         TOKENS, _password_names, "InvalidPasswordName"),
]
