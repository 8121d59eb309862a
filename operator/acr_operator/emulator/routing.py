"""Matching a request to an operation of api.json, or to an operation poll.

`apimodel.match` finds the operation, and this module adds what the
handlers need from it: the kind of request (get, list, put, patch, delete,
action) and the ARM id it addresses. The id is built from the path
template with the caller's casing of names, as ARM builds the ids it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acr_operator import apimodel
from acr_operator.emulator import lro

_PARAMETER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: dict
    params: dict[str, str]
    kind: str
    # get, put, patch, delete: the resource; action: the resource acted on;
    # list: the collection path; None for subscription-wide or provider-wide requests.
    target: str | None

    @property
    def operation_id(self) -> str:
        return self.operation["operationId"]


@dataclass(frozen=True)
class PollRoute:
    style: str
    name: str

    @property
    def operation_id(self) -> str:
        # The document has no operation for polls; these names tell them apart in
        # the request log and in fault matches.
        return "OperationStatus" if self.style == lro.ASYNC_OPERATION else "OperationResult"


def resolve(method: str, path: str, query: dict[str, str]) -> Route | PollRoute | None:
    poll = _poll(method, path)
    if poll is not None:
        return poll
    found = apimodel.match(method, path)
    if found is None and method.upper() == "GET" and "$skipToken" in query:
        # Next pages of a list served by POST (Webhooks_ListEvents) are fetched with GET.
        found = apimodel.match("POST", path)
        if found is not None and not found[0].get("pageable"):
            found = None
    if found is None:
        return None
    operation, params = found
    return Route(operation, params, kind_of(operation), _target(operation, params))


def other_methods(path: str) -> list[str]:
    """List the methods that some operation serves at `path`, for a 405 response."""
    return [m for m in ("GET", "PUT", "PATCH", "DELETE", "POST") if apimodel.match(m, path)]


def kind_of(operation: dict) -> str:
    method = operation["method"]
    if method in ("PUT", "PATCH", "DELETE"):
        return method.lower()
    if method == "POST":
        return "action"
    if _PARAMETER.fullmatch(operation["path"].rsplit("/", 1)[1]):
        return "get"
    return "list" if operation.get("pageable") else "action"


def fill(template: str, params: dict[str, str]) -> str:
    return _PARAMETER.sub(lambda m: params[m.group(1)], template)


def _target(operation: dict, params: dict[str, str]) -> str | None:
    path = fill(operation["path"], params)
    if "/resourceGroups/" not in operation["path"]:
        return None if kind_of(operation) == "action" else path
    if kind_of(operation) == "action":
        return path.rsplit("/", 1)[0]
    return path


def _poll(method: str, path: str) -> PollRoute | None:
    segments = path.rstrip("/").split("/")
    if method.upper() != "GET" or len(segments) < 6 or segments[1].lower() != "subscriptions":
        return None
    if segments[-2].lower() == "operationstatuses":
        return PollRoute(lro.ASYNC_OPERATION, segments[-1])
    if segments[-2].lower() == "operationresults" and segments[-4].lower() == "locations":
        return PollRoute(lro.LOCATION, segments[-1])
    return None
