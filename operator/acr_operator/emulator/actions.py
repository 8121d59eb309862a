"""Operations that are not plain resource CRUD: credentials, usages, import, webhook calls.

Each handler is keyed by its operationId in `ACTIONS`. Long-running actions
(GenerateCredentials, ImportImage, Deactivate) validate their input at once
and apply their effect when the operation ends, so a failed operation
changes nothing. The final Location poll returns their result.
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from collections.abc import Callable

from acr_operator import ARM_PROVIDER, apimodel
from acr_operator.emulator import defaults, ids, lro, resources, rules
from acr_operator.emulator.clock import arm_timestamp, parse_timestamp
from acr_operator.emulator.errors import bad_request, conflict, resource_not_found
from acr_operator.emulator.replies import Reply
from acr_operator.emulator.state import Call, Emulator
from acr_operator.emulator.store import Entry

# Usage limits per SKU: (Size in bytes, Webhooks, Geo-replications, IP rules, private endpoints).
# NOTE: figures from the SKU page as remembered, not checked against a live response.
# -1 means no fixed limit.
_GIB = 1024 ** 3
_USAGE_LIMITS = {
    "Basic": (10 * _GIB, 2, 0, 0, 0),
    "Standard": (100 * _GIB, 10, 0, 0, 0),
    "Premium": (500 * _GIB, 500, -1, 200, 200),
}
_USAGE_LIMITS["Classic"] = _USAGE_LIMITS["Basic"]

_REPOSITORY = r"[A-Za-z0-9]+(?:[._/-][A-Za-z0-9]+)*"
_SOURCE_IMAGE = re.compile(rf"^(?P<repo>{_REPOSITORY})(?::(?P<tag>[\w][\w.-]{{0,127}})|"
                           rf"@(?P<digest>sha256:[0-9a-f]{{64}}))?$")
_TARGET_TAG = re.compile(rf"^(?P<repo>{_REPOSITORY}):(?P<tag>[\w][\w.-]{{0,127}})$")


def _registry(emu: Emulator, call: Call) -> Entry:
    rid = resources.target_id(call)
    return resources.require(emu, rid.registry)


def _child(emu: Emulator, call: Call) -> Entry:
    rid = resources.target_id(call)
    resources.require_parents(emu, rid, "action")
    return resources.require(emu, rid)


def _enforce(emu: Emulator, call: Call, registry: Entry) -> None:
    rules.enforce(rules.RuleContext(
        emu.store, "action", ids.parse(registry.id), call.route.operation_id,
        registry=registry.doc, body=call.body))


def run(emu: Emulator, call: Call, resource_id: str, effect: Callable[[], object]) -> Reply:
    """Apply an action's effect now, or when its long-running operation ends."""
    style = lro.choose_style(emu.options.lro, "action", "",
                             bool(call.route.operation.get("longRunning")))
    if style == lro.SYNC:
        return Reply(200, effect())
    op = resources.start_operation(
        emu, call, "action", resource_id, style,
        lambda outcome: effect() if outcome == "Succeeded" else None)
    return Reply(202, None, lro.polling_headers(call.base, op, emu.options.retry_after))


def operations_list(emu: Emulator, call: Call) -> Reply:
    return resources.page(emu, call, operation_catalog())


def operation_catalog() -> list[dict]:
    """List one entry per resource type and verb that api.json serves, in the emulator's words."""
    found: dict[str, dict] = {}
    for op in apimodel.operations().values():
        name, resource, verb = _operation_name(op)
        found.setdefault(name, {
            "name": name,
            "isDataAction": False,
            "display": {
                "provider": "Microsoft Container Registry",
                "resource": resource,
                "operation": f"{verb.capitalize()} {resource}",
                "description": f"Lets the caller {verb} {resource} through "
                               f"{op['method']} {op['operationId']}.",
            },
            "origin": "user,system",
        })
    return sorted(found.values(), key=lambda o: o["name"])


def _operation_name(op: dict) -> tuple[str, str, str]:
    below = op["path"].split(f"/providers/{ARM_PROVIDER}/", 1)[1]
    segments = [s for s in below.split("/") if not s.startswith("{")]
    verbs = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
    if op["method"] == "POST" or (op["method"] == "GET" and segments[-1] in (
            "listUsages", "listCredentials")):
        action = segments[-1]
        resource = "/".join(segments[:-1])
        if not resource:
            return f"{ARM_PROVIDER}/{action}/action", action, action
        return f"{ARM_PROVIDER}/{resource}/{action}/action", resource, action
    resource = "/".join(segments)
    return f"{ARM_PROVIDER}/{resource}/{verbs[op['method']]}", resource, verbs[op["method"]]


def check_name_availability(emu: Emulator, call: Call) -> Reply:
    body = call.body if isinstance(call.body, dict) else {}
    name = str(body.get("name", ""))
    facts = apimodel.definitions()["RegistryNameCheckRequest"]["properties"]["name"]
    if not (facts["minLength"] <= len(name) <= facts["maxLength"]
            and re.fullmatch(facts["pattern"], name)):
        return Reply(200, {"nameAvailable": False, "reason": "Invalid",
                           "message": f"The registry name '{name}' is invalid: use 5 to 50 "
                                      f"letters and digits."})
    scope = body.get("autoGeneratedDomainNameLabelScope", "Unsecure")
    rid = ids.ResourceId(call.params["subscriptionId"], body.get("resourceGroupName") or "",
                         ("registries",), (name,))
    server = defaults.login_server(rid, scope, uuid.uuid4().hex)
    taken = any(str(e.doc["properties"].get("loginServer", "")).lower() == server
                for e in emu.store.of_type(ids.REGISTRY_TYPE))
    if taken:
        return Reply(200, {"nameAvailable": False, "reason": "AlreadyExists",
                           "message": f"The registry name '{name}' is already taken."})
    answer: dict = {"nameAvailable": True}
    if scope != "Unsecure":
        answer["availableLoginServerName"] = server
    return Reply(200, answer)


def _admin_answer(registry: Entry) -> dict:
    admin = registry.hidden.setdefault(
        "admin", {"password": resources.new_password(), "password2": resources.new_password()})
    return {"username": registry.doc["name"],
            "passwords": [{"name": n, "value": admin[n]} for n in ("password", "password2")]}


def list_credentials(emu: Emulator, call: Call) -> Reply:
    registry = _registry(emu, call)
    _enforce(emu, call, registry)
    return Reply(200, _admin_answer(registry))


def regenerate_credential(emu: Emulator, call: Call) -> Reply:
    registry = _registry(emu, call)
    _enforce(emu, call, registry)
    _admin_answer(registry)  # generates the passwords of a registry stored without them
    registry.hidden["admin"][call.body["name"]] = resources.new_password()
    return Reply(200, _admin_answer(registry))


def list_usages(emu: Emulator, call: Call) -> Reply:
    registry = _registry(emu, call)
    sku = registry.doc.get("sku", {}).get("name", "Basic")
    size, webhooks, replicas, ip_rules, endpoints = _USAGE_LIMITS.get(sku, _USAGE_LIMITS["Basic"])

    def count(collection: str) -> int:
        return len(emu.store.children(f"{registry.id}/{collection}"))

    ip_count = len((registry.doc["properties"].get("networkRuleSet") or {}).get("ipRules") or [])
    usages = [
        ("Size", size, _stored_bytes(registry), "Bytes"),
        ("Webhooks", webhooks, count("webhooks"), "Count"),
        ("Geo-replications", replicas, count("replications"), "Count"),
        ("IPRules", ip_rules, ip_count, "Count"),
        ("PrivateEndpointConnections", endpoints, count("privateEndpointConnections"), "Count"),
    ]
    return Reply(200, {"value": [{"name": n, "limit": lim, "currentValue": cur, "unit": unit}
                                 for n, lim, cur, unit in usages]})


def _stored_bytes(registry: Entry) -> int:
    # Imported images have no real layers; count a nominal size per manifest.
    images = registry.hidden.get("images") or {}
    return sum(len(set(repo["tags"].values()) | set(repo["untagged"])) * 2_000_000
               for repo in images.values())


def _private_link_resource(registry: Entry, store) -> dict:
    regions = [registry.doc["location"]] + [
        r.doc["location"] for r in store.children(f"{registry.id}/replications")]
    return {
        "id": f"{registry.id}/privateLinkResources/registry",
        "name": "registry",
        "type": f"{registry.type}/privateLinkResources",
        "properties": {
            "groupId": "registry",
            "requiredMembers": ["registry", *(f"registry_data_{r}" for r in regions)],
            "requiredZoneNames": ["privatelink.azurecr.io"],
        },
    }


def list_private_link_resources(emu: Emulator, call: Call) -> Reply:
    registry = resources.require(emu, ids.parse(call.route.target + "/x").registry)
    return resources.page(emu, call, [_private_link_resource(registry, emu.store)])


def get_private_link_resource(emu: Emulator, call: Call) -> Reply:
    rid = resources.target_id(call)
    registry = resources.require(emu, rid.registry)
    if rid.name.lower() != "registry":
        raise resource_not_found(rid)
    return Reply(200, _private_link_resource(registry, emu.store))


def generate_credentials(emu: Emulator, call: Call) -> Reply:
    registry = _registry(emu, call)
    _enforce(emu, call, registry)
    body = call.body or {}
    token = _token_of(emu, registry, body.get("tokenId"))
    expiry = body.get("expiry")
    if expiry is not None and parse_timestamp(expiry) is None:
        raise bad_request("InvalidParameter", f"The expiry '{expiry}' is not a timestamp.",
                          target="expiry")
    names = [body["name"]] if body.get("name") else ["password1", "password2"]
    return run(emu, call, registry.id, lambda: _new_token_passwords(emu, token, names, expiry))


def _token_of(emu: Emulator, registry: Entry, token_id: object) -> Entry:
    rid = ids.parse(str(token_id or ""))
    same_registry = rid is not None and ids.key(str(rid.registry)) == ids.key(registry.id)
    entry = emu.store.get(str(rid)) if same_registry and rid.short_type.lower() == (
        "registries/tokens") else None
    if entry is None:
        # NOTE: code not confirmed from a recording.
        raise bad_request("TokenNotFound",
                          f"The token '{token_id}' does not exist in registry "
                          f"'{registry.doc['name']}'.", target="tokenId")
    return entry


def _new_token_passwords(emu: Emulator, token: Entry, names: list[str], expiry: str | None) -> dict:
    stored = token.hidden.setdefault("passwords", {})
    created = arm_timestamp(emu.clock())
    generated = []
    for name in names:
        password = {"creationTime": created, "name": name, "value": resources.new_password()}
        if expiry:
            password["expiry"] = expiry
        stored[name] = password
        generated.append(password)
    credentials = token.doc["properties"].setdefault("credentials", {})
    credentials["passwords"] = [{k: v for k, v in stored[n].items() if k != "value"}
                                for n in sorted(stored)]
    return {"username": token.doc["name"], "passwords": copy.deepcopy(generated)}


def import_image(emu: Emulator, call: Call) -> Reply:
    registry = _registry(emu, call)
    body = call.body or {}
    source = body.get("source") or {}
    origin = _import_origin(emu, source)
    image = _SOURCE_IMAGE.match(source.get("sourceImage", ""))
    if image is None:
        raise bad_request("InvalidParameter",
                          f"The source image '{source.get('sourceImage')}' is not "
                          f"repository[:tag] or repository@sha256:digest.",
                          target="source.sourceImage")
    targets = _import_targets(body, image)
    digest = image["digest"] or "sha256:" + hashlib.sha256(
        f"{origin}/{source['sourceImage']}".encode()).hexdigest()
    if body.get("mode", "NoForce") == "NoForce":
        _refuse_overwrite(registry, targets, digest)
    return run(emu, call, registry.id, lambda: _record_import(registry, targets, body, digest))


def _import_origin(emu: Emulator, source: dict) -> str:
    if source.get("resourceId"):
        rid = ids.parse(source["resourceId"])
        if rid is None or rid.short_type.lower() != "registries" or emu.store.get(str(rid)) is None:
            # NOTE: code not confirmed from a recording.
            raise bad_request("InvalidParameter",
                              f"The source registry '{source['resourceId']}' does not exist.",
                              target="source.resourceId")
        return emu.store.get(str(rid)).doc["properties"]["loginServer"]
    if source.get("registryUri"):
        return source["registryUri"]
    raise bad_request("InvalidParameter",
                      "The import source needs a resourceId or a registryUri.", target="source")


def _import_targets(body: dict, image: re.Match) -> list[tuple[str, str]]:
    targets = []
    for text in body.get("targetTags") or []:
        match = _TARGET_TAG.match(text)
        if match is None:
            raise bad_request("InvalidParameter",
                              f"The target tag '{text}' is not repository:tag.", target="targetTags")
        targets.append((match["repo"], match["tag"]))
    if not targets and not body.get("untaggedTargetRepositories"):
        targets.append((image["repo"], image["tag"] or "latest"))
    return targets


def _refuse_overwrite(registry: Entry, targets: list[tuple[str, str]], digest: str) -> None:
    images = registry.hidden.get("images") or {}
    for repo, tag in targets:
        current = (images.get(repo.lower()) or {}).get("tags", {}).get(tag)
        if current is not None and current != digest:
            # NOTE: code not confirmed from a recording.
            raise conflict("TagAlreadyExists",
                           f"The tag {repo}:{tag} already exists in registry "
                           f"'{registry.doc['name']}'; import with mode Force to replace it.")


def _record_import(registry: Entry, targets: list[tuple[str, str]], body: dict,
                   digest: str) -> None:
    images = registry.hidden.setdefault("images", {})
    for repo, tag in targets:
        images.setdefault(repo.lower(), {"tags": {}, "untagged": []})["tags"][tag] = digest
    for repo in body.get("untaggedTargetRepositories") or []:
        entry = images.setdefault(repo.lower(), {"tags": {}, "untagged": []})
        if digest not in entry["untagged"]:
            entry["untagged"].append(digest)


def get_callback_config(emu: Emulator, call: Call) -> Reply:
    webhook = _child(emu, call)
    callback = webhook.hidden.get("callback") or {}
    return Reply(200, {"serviceUri": callback.get("serviceUri"),
                       "customHeaders": dict(callback.get("customHeaders") or {})})


def ping(emu: Emulator, call: Call) -> Reply:
    webhook = _child(emu, call)
    callback = webhook.hidden.get("callback") or {}
    event_id = str(uuid.uuid4())
    headers = {"Content-Type": "application/json"}
    # Event logs show custom header names, never their values.
    headers.update({name: "******" for name in callback.get("customHeaders") or {}})
    event = {
        "id": event_id,
        "eventRequestMessage": {
            "content": {"id": event_id, "timestamp": arm_timestamp(emu.clock()), "action": "ping"},
            "headers": headers,
            "method": "POST",
            "requestUri": callback.get("serviceUri"),
            "version": "1.1",
        },
        "eventResponseMessage": {"headers": {}, "statusCode": "200", "version": "1.1"},
    }
    webhook.hidden.setdefault("events", []).insert(0, event)
    return Reply(200, {"id": event_id})


def list_events(emu: Emulator, call: Call) -> Reply:
    webhook = _child(emu, call)
    return resources.page(emu, call, copy.deepcopy(webhook.hidden.get("events") or []))


def deactivate(emu: Emulator, call: Call) -> Reply:
    connected = _child(emu, call)

    def effect() -> None:
        connected.doc["properties"]["activation"] = {"status": "Inactive"}
        connected.doc["properties"]["connectionState"] = "Offline"
    return run(emu, call, connected.id, effect)


def credentials_valid(emu: Emulator, registry: str, username: str, password: str) -> bool:
    """Tell whether a login to `registry` (login server or name) with these credentials succeeds."""
    wanted = registry.lower()
    for entry in emu.store.of_type(ids.REGISTRY_TYPE):
        props = entry.doc.get("properties") or {}
        if wanted in (str(props.get("loginServer", "")).lower(), entry.doc["name"].lower()):
            return _admin_valid(entry, username, password) or _token_valid(
                emu, entry, username, password)
    return False


def _admin_valid(registry: Entry, username: str, password: str) -> bool:
    if not registry.doc["properties"].get("adminUserEnabled"):
        return False
    admin = registry.hidden.get("admin") or {}
    return username.lower() == registry.doc["name"].lower() and password in admin.values()


def _token_valid(emu: Emulator, registry: Entry, username: str, password: str) -> bool:
    token = emu.store.get(f"{registry.id}/tokens/{username}")
    if token is None or token.doc["properties"].get("status") == "disabled":
        return False
    for stored in (token.hidden.get("passwords") or {}).values():
        expiry = parse_timestamp(stored.get("expiry", "")) if stored.get("expiry") else None
        if stored["value"] == password and (expiry is None or expiry > emu.clock()):
            return True
    return False


ACTIONS: dict[str, Callable[[Emulator, Call], Reply]] = {
    "Operations_List": operations_list,
    "Registries_CheckNameAvailability": check_name_availability,
    "Registries_ListCredentials": list_credentials,
    "Registries_RegenerateCredential": regenerate_credential,
    "Registries_ListUsages": list_usages,
    "Registries_ListPrivateLinkResources": list_private_link_resources,
    "Registries_GetPrivateLinkResource": get_private_link_resource,
    "Registries_GenerateCredentials": generate_credentials,
    "Registries_ImportImage": import_image,
    "Webhooks_GetCallbackConfig": get_callback_config,
    "Webhooks_Ping": ping,
    "Webhooks_ListEvents": list_events,
    "ConnectedRegistries_Deactivate": deactivate,
}

# Body fields that the schema check skips, because the handler reports a bad value
# in its result (nameAvailable false, reason Invalid) rather than as an error.
LENIENT_FIELDS = {"Registries_CheckNameAvailability": {"name"}}
