"""The control API under `/_emulator/`: tests steer and inspect the emulator here.

These requests need no token and never appear in the request log. Besides
the requests listed in docs/architecture.md, the API offers four more:

- `POST /_emulator/private-endpoint-connections` adds a Pending connection,
  as Microsoft.Network does when someone creates a private endpoint;
- `POST /_emulator/credential-check` tells whether a docker login with the
  given credentials would succeed;
- `GET /_emulator/images?registryId=` returns the tags ImportImage recorded;
- `GET /_emulator/rules` lists the service rules the emulator enforces.
"""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from acr_operator.emulator import actions, defaults, faults, ids, rules
from acr_operator.emulator.clock import arm_timestamp
from acr_operator.emulator.gateway import EMULATOR_KEY
from acr_operator.emulator.state import Emulator

PREFIX = "/_emulator"


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/requests", get_requests)
    app.router.add_delete(f"{PREFIX}/requests", clear_requests)
    app.router.add_get(f"{PREFIX}/faults", get_faults)
    app.router.add_post(f"{PREFIX}/faults", add_fault)
    app.router.add_delete(f"{PREFIX}/faults", clear_faults)
    app.router.add_get(f"{PREFIX}/config", get_config)
    app.router.add_put(f"{PREFIX}/config", put_config)
    app.router.add_get(f"{PREFIX}/resources", get_resources)
    app.router.add_patch(f"{PREFIX}/resources", patch_resource)
    app.router.add_post(f"{PREFIX}/reset", reset)
    app.router.add_post(f"{PREFIX}/private-endpoint-connections", add_private_endpoint_connection)
    app.router.add_post(f"{PREFIX}/credential-check", check_credentials)
    app.router.add_get(f"{PREFIX}/images", get_images)
    app.router.add_get(f"{PREFIX}/rules", get_rules)


def _emulator(request: web.Request) -> Emulator:
    emu = request.app[EMULATOR_KEY]
    emu.settle()
    return emu


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": "InvalidControlRequest", "message": message}},
                             status=status)


async def _json_object(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text=json.dumps({"error": {
            "code": "InvalidControlRequest", "message": "The body must be a JSON object."}}),
            content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": {
            "code": "InvalidControlRequest", "message": "The body must be a JSON object."}}),
            content_type="application/json")
    return body


async def get_requests(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).log.list())


async def clear_requests(request: web.Request) -> web.Response:
    _emulator(request).log.clear()
    return web.Response(status=204)


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).faults.list())


async def add_fault(request: web.Request) -> web.Response:
    emu = _emulator(request)
    try:
        fault = faults.parse(await _json_object(request))
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    emu.faults.add(fault)
    return web.json_response(fault.to_json(), status=201)


async def clear_faults(request: web.Request) -> web.Response:
    _emulator(request).faults.clear()
    return web.Response(status=204)


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).options.to_json())


async def put_config(request: web.Request) -> web.Response:
    emu = _emulator(request)
    try:
        emu.options.update(await _json_object(request))
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    return web.json_response(emu.options.to_json())


async def get_resources(request: web.Request) -> web.Response:
    emu = _emulator(request)
    return web.json_response({e.id: defaults.present(emu.store, e) for e in emu.store.entries()})


async def patch_resource(request: web.Request) -> web.Response:
    emu = _emulator(request)
    resource_id = request.query.get("id")
    entry = emu.store.get(resource_id) if resource_id else None
    if entry is None:
        return _error(404, f"No stored resource has the id {resource_id!r}.")
    changes = await _json_object(request)
    # The id, name and type identify the entry, so a merge must not change them.
    identity = {k: entry.doc[k] for k in ("id", "name", "type")}
    entry.doc = defaults.merge(entry.doc, changes)
    entry.doc.update(identity)
    return web.json_response(defaults.present(emu.store, entry))


async def reset(request: web.Request) -> web.Response:
    _emulator(request).reset()
    return web.Response(status=204)


async def add_private_endpoint_connection(request: web.Request) -> web.Response:
    emu = _emulator(request)
    body = await _json_object(request)
    registry = emu.store.get(str(body.get("registryId", "")))
    endpoint = body.get("privateEndpointId")
    if registry is None or registry.type.lower() != ids.REGISTRY_TYPE.lower():
        return _error(404, f"No registry has the id {body.get('registryId')!r}.")
    if not endpoint:
        return _error(400, "privateEndpointId is required.")
    name = body.get("name") or f"{str(endpoint).rsplit('/', 1)[-1]}.{uuid.uuid4()}"
    now = emu.clock()
    doc = {
        "id": f"{registry.id}/privateEndpointConnections/{name}",
        "name": name,
        "type": f"{registry.type}/privateEndpointConnections",
        "systemData": {"createdBy": "Microsoft.Network", "createdByType": "Application",
                       "createdAt": arm_timestamp(now), "lastModifiedBy": "Microsoft.Network",
                       "lastModifiedByType": "Application", "lastModifiedAt": arm_timestamp(now)},
        "properties": {
            "privateEndpoint": {"id": endpoint},
            "privateLinkServiceConnectionState": {
                "status": "Pending",
                "description": "Awaiting approval by the registry owner.",
                "actionsRequired": "None",
            },
            "provisioningState": "Succeeded",
        },
    }
    entry = emu.store.put(doc)
    return web.json_response(entry.doc, status=201)


async def check_credentials(request: web.Request) -> web.Response:
    emu = _emulator(request)
    body = await _json_object(request)
    missing = [k for k in ("registry", "username", "password") if not isinstance(body.get(k), str)]
    if missing:
        return _error(400, f"Missing string field(s): {', '.join(missing)}.")
    valid = actions.credentials_valid(emu, body["registry"], body["username"], body["password"])
    return web.json_response({"valid": valid})


async def get_images(request: web.Request) -> web.Response:
    emu = _emulator(request)
    registry = emu.store.get(request.query.get("registryId", ""))
    if registry is None:
        return _error(404, f"No registry has the id {request.query.get('registryId')!r}.")
    return web.json_response(registry.hidden.get("images") or {})


async def get_rules(request: web.Request) -> web.Response:
    return web.json_response([{"id": r.id, "statement": r.statement, "source": r.source}
                              for r in rules.RULES])
