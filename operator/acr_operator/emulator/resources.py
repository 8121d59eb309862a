"""Generic GET, list, PUT, PATCH and DELETE for every resource type of the document.

One implementation serves all fourteen resource types: the type-specific
parts are the document defaults (`defaults`) and the service rules
(`rules`). Writes complete synchronously or start a long-running operation,
depending on the LRO mode (`lro.choose_style`). While one is in flight the
resource shows Creating, Updating or Deleting, and further writes to it get
409, as from ARM's resource providers.
"""

from __future__ import annotations

import secrets

from acr_operator import ARM_API_VERSION
from acr_operator.emulator import defaults, ids, lro, rules
from acr_operator.emulator.errors import (
    bad_request,
    conflict,
    parent_not_found,
    resource_not_found,
)
from acr_operator.emulator.replies import Reply
from acr_operator.emulator.state import Call, Emulator
from acr_operator.emulator.store import Entry


def target_id(call: Call) -> ids.ResourceId:
    rid = ids.parse(call.route.target or "")
    if rid is None:
        raise bad_request("InvalidResourceId", f"'{call.route.target}' is not a resource id.")
    return rid


def require_parents(emu: Emulator, rid: ids.ResourceId, verb: str) -> dict | None:
    """Return the registry document above `rid` (None for a registry); 404 if an ancestor is missing."""
    chain = []
    parent = rid.parent
    while parent is not None:
        chain.insert(0, parent)
        parent = parent.parent
    for ancestor in chain:
        if emu.store.get(str(ancestor)) is None:
            if verb == "read" and rid.short_type.lower() in defaults.TRACKED_TYPES:
                # Recorded reads of a replication whose registry is gone return
                # ResourceNotFound, those of a cache rule ParentResourceNotFound.
                raise resource_not_found(rid)
            raise parent_not_found(rid, ancestor, verb)
    return emu.store.get(str(rid.registry)).doc if chain else None


def require(emu: Emulator, rid: ids.ResourceId) -> Entry:
    entry = emu.store.get(str(rid))
    if entry is None:
        raise resource_not_found(rid)
    return entry


def refuse_if_busy(emu: Emulator, resource_id: str) -> None:
    op = emu.operations.in_flight(resource_id)
    if op is not None:
        # NOTE: code not confirmed from a recording.
        raise conflict(
            "AnotherOperationInProgress",
            f"The resource '{resource_id}' is {op.running_status.lower()}; wait until that "
            f"operation ends before changing it again.")


def get(emu: Emulator, call: Call) -> Reply:
    rid = target_id(call)
    require_parents(emu, rid, "read")
    return Reply(200, defaults.present(emu.store, require(emu, rid)))


def list_collection(emu: Emulator, call: Call) -> Reply:
    collection = call.route.target or ""
    if "/resourceGroups/" not in call.route.operation["path"]:
        entries = emu.store.of_type(ids.REGISTRY_TYPE, subscription=call.params["subscriptionId"])
    else:
        sample = ids.parse(collection + "/x")
        if sample is not None:
            require_parents(emu, sample, "read")
        entries = emu.store.children(collection)
    return page(emu, call, [defaults.present(emu.store, e) for e in entries])


def page(emu: Emulator, call: Call, items: list) -> Reply:
    """Return one page of `items`, with a nextLink back to this emulator when more remain."""
    paging = call.route.operation.get("pageable") or {}
    item_name = paging.get("itemName", "value")
    next_name = paging.get("nextLinkName")
    if not next_name:
        return Reply(200, {item_name: items})
    token = call.query.get("$skipToken", "0")
    if not token.isdigit():
        raise bad_request("InvalidSkipToken", f"The skip token '{token}' is not valid.")
    start, size = int(token), emu.options.page_size
    body: dict = {item_name: items[start:start + size]}
    if start + size < len(items):
        body[next_name] = (f"{call.base}{call.path}?api-version={ARM_API_VERSION}"
                           f"&$skipToken={start + size}")
    return Reply(200, body)


def put(emu: Emulator, call: Call) -> Reply:
    rid = target_id(call)
    registry = require_parents(emu, rid, "write")
    existing = emu.store.get(str(rid))
    refuse_if_busy(emu, str(rid))
    kind = "replace" if existing else "create"
    resource_id = existing.id if existing else _new_id(emu, rid)
    body = call.body if isinstance(call.body, dict) else {}
    doc = _build(emu, call, resource_id, body, existing, registry)
    _enforce(emu, call, kind, doc, existing, registry)
    hidden = _hidden_after_put(rid, body, existing)
    return commit(emu, call, kind, doc, hidden)


def patch(emu: Emulator, call: Call) -> Reply:
    rid = target_id(call)
    registry = require_parents(emu, rid, "write")
    existing = require(emu, rid)
    refuse_if_busy(emu, existing.id)
    changes = call.body if isinstance(call.body, dict) else {}
    body = defaults.patch_body(existing.type, existing.doc, changes)
    doc = _build(emu, call, existing.id, body, existing, registry)
    _enforce(emu, call, "update", doc, existing, registry)
    return commit(emu, call, "update", doc, _hidden_after_patch(existing, changes))


def delete(emu: Emulator, call: Call) -> Reply:
    rid = target_id(call)
    require_parents(emu, rid, "delete")
    entry = emu.store.get(str(rid))
    if entry is None:
        return Reply(204)
    running = emu.operations.in_flight(entry.id)
    if running is not None and running.kind == "delete":
        # A repeated delete joins the one already under way.
        return Reply(202, None, lro.polling_headers(call.base, running, emu.options.retry_after))
    refuse_if_busy(emu, entry.id)
    style = _style(emu, call, "delete", entry.type)
    if style == lro.SYNC:
        emu.store.remove_tree(entry.id)
        return Reply(200)
    defaults.set_state(entry.doc, "Deleting", emu.clock())
    op = start_operation(emu, call, "delete", entry.id, style, lambda outcome: _finish_delete(
        emu, entry.id, outcome))
    headers = lro.polling_headers(call.base, op, emu.options.retry_after)
    # Recorded registry deletes carry the resource in state Deleting; nothing shows a
    # child delete doing so, and the document declares no body for 202.
    body = defaults.present(emu.store, entry) if rid.parent is None else None
    return Reply(202, body, headers)


def commit(emu: Emulator, call: Call, kind: str, doc: dict, hidden: dict | None) -> Reply:
    """Store a written document and respond at once or with a polling URL."""
    style = _style(emu, call, kind, doc["type"])
    if style == lro.SYNC:
        defaults.finish(emu.store, doc, "Succeeded", emu.clock())
        entry = emu.store.put(doc, hidden)
        return Reply(200, defaults.present(emu.store, entry))
    op_kind = "create" if kind == "create" else "update"
    defaults.set_state(doc, lro.RUNNING_STATES[op_kind], emu.clock())
    entry = emu.store.put(doc, hidden)
    op = start_operation(emu, call, op_kind, entry.id, style,
                         lambda outcome: _finish_write(emu, entry.id, outcome))
    # A create answers 201; so does a PATCH, as the document's examples show.
    status = 201 if kind == "create" or call.method == "PATCH" else 200
    headers = lro.polling_headers(call.base, op, emu.options.retry_after)
    return Reply(status, defaults.present(emu.store, entry), headers)


def start_operation(emu: Emulator, call: Call, kind: str, resource_id: str, style: str,
                    complete: lro.Completion) -> lro.Operation:
    """Start a long-running operation, set to fail if an injected fault asks for that."""
    fault = emu.faults.take_operation(call.method, call.route.operation_id, call.path)
    failure = (fault.operation_status, fault.body, fault.status) if fault else None
    return emu.operations.start(
        kind=kind, resource_id=resource_id, style=style, seconds=emu.options.operation_seconds,
        region=region_of(emu, resource_id), complete=complete, failure=failure)


def region_of(emu: Emulator, resource_id: str) -> str:
    """Return the region of a resource's registry, where ARM places its operation results."""
    rid = ids.parse(resource_id)
    registry = emu.store.get(str(rid.registry)) if rid else None
    return (registry.doc.get("location") if registry else None) or "global"


def _new_id(emu: Emulator, rid: ids.ResourceId) -> str:
    """Build the id of a new resource from its parent's stored id and the caller's name."""
    if rid.parent is None:
        return str(rid)
    parent = emu.store.get(str(rid.parent))
    depth = len(ids.parse(parent.id).types)
    below = "".join(f"/{t}/{n}" for t, n in zip(rid.types[depth:], rid.names[depth:]))
    return parent.id + below


def _style(emu: Emulator, call: Call, kind: str, arm_type: str) -> str:
    return lro.choose_style(emu.options.lro, kind, arm_type,
                            bool(call.route.operation.get("longRunning")))


def _build(emu: Emulator, call: Call, resource_id: str, body: dict, existing: Entry | None,
           registry: dict | None) -> dict:
    context = defaults.BuildContext(
        resource_id=resource_id, rid=ids.parse(resource_id), body=body,
        existing=existing.doc if existing else None, registry=registry, now=emu.clock(),
        caller=call.caller)
    return defaults.build(context)


def _enforce(emu: Emulator, call: Call, kind: str, doc: dict, existing: Entry | None,
             registry: dict | None) -> None:
    rid = ids.parse(doc["id"])
    is_registry = rid.parent is None
    rules.enforce(rules.RuleContext(
        emu.store, kind, rid, call.route.operation_id, doc=doc,
        existing=existing.doc if existing else None,
        registry=doc if is_registry else registry, body=call.body))


def _finish_write(emu: Emulator, resource_id: str, outcome: str) -> None:
    entry = emu.store.get(resource_id)
    if entry is not None:
        defaults.finish(emu.store, entry.doc, outcome, emu.clock())


def _finish_delete(emu: Emulator, resource_id: str, outcome: str) -> None:
    if outcome == "Succeeded":
        emu.store.remove_tree(resource_id)
        return
    entry = emu.store.get(resource_id)
    if entry is not None:
        defaults.set_state(entry.doc, outcome, emu.clock())


def new_password() -> str:
    """Generate a random password of the length ACR uses (52 characters)."""
    return secrets.token_urlsafe(39)


def _hidden_after_put(rid: ids.ResourceId, body: dict, existing: Entry | None) -> dict | None:
    short = rid.short_type.lower()
    hidden = dict(existing.hidden) if existing else {}
    if short == "registries" and "admin" not in hidden:
        hidden["admin"] = {"password": new_password(), "password2": new_password()}
    if short == "registries/webhooks":
        given = body.get("properties") or {}
        hidden["callback"] = {"serviceUri": given.get("serviceUri"),
                              "customHeaders": dict(given.get("customHeaders") or {})}
    if short == "registries/tokens":
        _keep_listed_passwords(hidden, body)
    return hidden


def _hidden_after_patch(existing: Entry, changes: dict) -> dict:
    hidden = dict(existing.hidden)
    given = changes.get("properties") or {}
    if existing.type.lower().endswith("/webhooks"):
        callback = dict(hidden.get("callback") or {})
        for name in ("serviceUri", "customHeaders"):
            if name in given:
                callback[name] = given[name]
        hidden["callback"] = callback
    if existing.type.lower().endswith("/tokens"):
        _keep_listed_passwords(hidden, changes)
    return hidden


def _keep_listed_passwords(hidden: dict, body: dict) -> None:
    """Drop the token passwords that a write's credentials.passwords list leaves out.

    Listing the passwords to keep is how a client deletes one (the Azure CLI's
    `az acr token credential delete` sends the token back without it).
    """
    listed = ((body.get("properties") or {}).get("credentials") or {}).get("passwords")
    if not isinstance(listed, list) or "passwords" not in hidden:
        return
    names = {p.get("name") for p in listed if isinstance(p, dict)}
    hidden["passwords"] = {n: p for n, p in hidden["passwords"].items() if n in names}
