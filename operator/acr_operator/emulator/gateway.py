"""The ARM front of the emulator: what every ARM request passes through.

The steps, in order: finish due long-running operations, log the request,
check the bearer token and match the operation (or an operation poll).
Then apply an injected fault, check the api-version, the path parameters
and the body, and hand the call to the operation's handler. A failure at
any step becomes ARM's error response. `serve_request` does the work
without aiohttp, so unit tests can drive it directly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

from aiohttp import web

from acr_operator import ARM_API_VERSION, ARM_PROVIDER
from acr_operator.emulator import actions, lro, resources, routing, validation
from acr_operator.emulator.errors import ArmError
from acr_operator.emulator.replies import Drop, Reply
from acr_operator.emulator.requestlog import LogEntry
from acr_operator.emulator.state import Call, Emulator

EMULATOR_KEY = web.AppKey("emulator", Emulator)
CONTROL_PREFIX = "/_emulator/"

_GENERIC: dict[str, Callable[[Emulator, Call], Reply]] = {
    "get": resources.get,
    "list": resources.list_collection,
    "put": resources.put,
    "patch": resources.patch,
    "delete": resources.delete,
}


async def handle(request: web.Request) -> web.StreamResponse:
    """Serve every path outside the control API (aiohttp handler)."""
    emu = request.app[EMULATOR_KEY]
    if request.path.startswith(CONTROL_PREFIX):
        return _unknown_control_request(request)
    raw = await request.read()
    base = f"{request.scheme}://{request.host}"
    try:
        reply = serve_request(emu, request.method, request.rel_url.raw_path,
                              dict(request.query), request.headers, raw, base)
    except Drop:
        return await _drop(request)
    return _response(reply)


def _unknown_control_request(request: web.Request) -> web.Response:
    known = any(r.canonical == request.path for r in request.app.router.resources())
    body = {"error": {"code": "UnknownControlRequest",
                      "message": f"{request.method} {request.path} is not part of the control API."}}
    return web.json_response(body, status=405 if known else 404)


def serve_request(emu: Emulator, method: str, path: str, query: dict[str, str],
                  headers: Mapping[str, str], raw: bytes, base: str) -> Reply:
    """Serve one ARM request and log it; raises Drop for an injected dropped connection."""
    emu.settle()
    entry = emu.log.begin(method, path, query, _loggable(raw))
    try:
        reply = _serve(emu, method, path, query, headers, raw, base, entry)
    except ArmError as error:
        reply = Reply(error.status, error.body(), dict(error.headers))
    except Drop:
        entry.status = None
        raise
    entry.status = reply.status
    if reply.status >= 400 and isinstance(reply.body, dict):
        entry.error_code = (reply.body.get("error") or {}).get("code")
    return reply


def _serve(emu: Emulator, method: str, path: str, query: dict[str, str],
           headers: Mapping[str, str], raw: bytes, base: str, entry: LogEntry) -> Reply:
    token = _authenticate(emu, headers)
    route = routing.resolve(method, path, query)
    if route is None:
        raise _unmatched(method, path)
    entry.operation_id = route.operation_id
    fault = emu.faults.take_response(method, route.operation_id, path)
    if fault is not None:
        if fault.drop:
            raise Drop()
        return Reply(fault.status, fault.error_body(), dict(fault.headers))
    validation.check_api_version(query, _resource_type(path))
    if isinstance(route, routing.PollRoute):
        return _poll(emu, route, base)
    validation.check_path_parameters(route.operation, route.params)
    body = validation.parse_body(raw) if route.operation.get("body") else None
    body = validation.validate_body(route.operation, body,
                                    actions.LENIENT_FIELDS.get(route.operation_id, set()))
    call = Call.make(method, path, query, route, base, token, body)
    handler = actions.ACTIONS.get(route.operation_id) or _GENERIC[route.kind]
    return handler(emu, call)


def _authenticate(emu: Emulator, headers: Mapping[str, str]) -> str:
    header = headers.get("Authorization")
    if header is None:
        raise _unauthorized("AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is missing.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("AuthenticationFailed",
                            "Authentication failed. The 'Authorization' header is provided in an "
                            "invalid format.")
    token = token.strip()
    if emu.options.token is not None and token != emu.options.token:
        raise _unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
    return token


def _unauthorized(code: str, message: str) -> ArmError:
    challenge = ('Bearer authorization_uri="https://login.microsoftonline.com/common", '
                 'error="invalid_token", error_description="The access token is invalid."')
    return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})


def _unmatched(method: str, path: str) -> ArmError:
    allowed = routing.other_methods(path)
    if allowed:
        # NOTE: code not confirmed from a recording.
        return ArmError(405, "MethodNotAllowed",
                        f"The resource at '{path}' does not support the HTTP method '{method}'; "
                        f"it supports {', '.join(allowed)}.",
                        headers={"Allow": ", ".join(allowed)})
    if f"/providers/{ARM_PROVIDER}/".lower() in path.lower():
        return ArmError(404, "InvalidResourceType",
                        f"The resource type of '{path}' could not be found in the namespace "
                        f"'{ARM_PROVIDER}' for api version '{ARM_API_VERSION}'.")
    return ArmError(404, "NotFound", f"No ARM operation of this emulator serves '{path}'.")


def _resource_type(path: str) -> str:
    below = path.split(f"/providers/{ARM_PROVIDER}/", 1)[-1] if ARM_PROVIDER in path else path
    return "/".join(below.split("/")[0::2])


def _poll(emu: Emulator, route: routing.PollRoute, base: str) -> Reply:
    op = emu.operations.get(route.name)
    if op is None or op.style != route.style:
        # NOTE: code not confirmed from a recording.
        raise ArmError(404, "OperationNotFound",
                       f"The operation '{route.name}' was not found. The emulator forgets its "
                       f"operations when it is reset.")
    if route.style == lro.ASYNC_OPERATION:
        return lro.status_reply(base, op, emu.options.retry_after)
    return lro.result_reply(base, op, emu.options.retry_after)


def _loggable(raw: bytes) -> object:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def _response(reply: Reply) -> web.Response:
    headers = {"x-ms-request-id": str(uuid.uuid4()), **reply.headers}
    if reply.body is None:
        return web.Response(status=reply.status, headers=headers)
    return web.Response(status=reply.status, headers=headers, text=json.dumps(reply.body),
                        content_type="application/json", charset="utf-8")


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without sending anything, as a failed network would."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp needs a response object; nothing reaches the aborted connection.
    return web.Response(status=500)
