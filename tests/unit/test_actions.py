"""After-ready actions and lists: usages, webhook ping and events, deactivation; PEC and runs."""

from __future__ import annotations

import copy

from acr_operator.arm.client import ArmResponse
from acr_operator.reconciler import actions
from tests.unit.fakes import REGISTRY_ID, FakeArm, Harness, registry, webhook

WEBHOOK_ID = f"{REGISTRY_ID}/webhooks/hook01"
CONNECTED_ID = f"{REGISTRY_ID}/connectedRegistries/edge01"
PEC_ID = f"{REGISTRY_ID}/privateEndpointConnections/conn01"
RUN_ID = f"{REGISTRY_ID}/pipelineRuns/run01"
IMPORT_PIPELINE_ID = f"{REGISTRY_ID}/importPipelines/inbound"


def child(kind: str, name: str, spec: dict) -> dict:
    return {
        "apiVersion": "acr-operator.dev/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": 1,
                     "finalizers": ["acr-operator.dev/finalizer"]},
        "spec": {"registryRef": {"name": "main"}, **spec},
    }


def with_registry(h: Harness) -> Harness:
    h.resolver.add_ready("Registry", "main", REGISTRY_ID)
    return h


def bump(h: Harness, **spec) -> None:
    h.obj["spec"].update(spec)
    h.obj["metadata"]["generation"] += 1


def calls(h: Harness, suffix: str) -> list:
    return [r for r in h.arm.hook_calls() if r[1].endswith(suffix)]


# --- Registry ----------------------------------------------------------------------------

async def test_registry_status_has_usages_and_private_link_resources():
    h = Harness(registry())
    h.arm.hook_responses["listUsages"] = {"value": [
        {"name": "Size", "limit": 536870912000, "currentValue": 0, "unit": "Bytes"}]}
    h.arm.hook_responses["privateLinkResources"] = {"value": [{
        "id": f"{REGISTRY_ID}/privateLinkResources/registry", "name": "registry",
        "properties": {"groupId": "registry", "requiredMembers": ["registry"],
                       "requiredZoneNames": ["privatelink.azurecr.io"]}}]}

    await h.step()

    status = h.obj["status"]
    assert status["usages"] == [{"name": "Size", "currentValue": 0,
                                 "limit": 536870912000, "unit": "Bytes"}]
    assert status["privateLinkResources"] == [{
        "name": "registry", "groupId": "registry", "requiredMembers": ["registry"],
        "requiredZoneNames": ["privatelink.azurecr.io"]}]
    assert [m for m, _, _ in h.arm.hook_calls()] == ["GET", "GET"]

    h.arm.requests.clear()
    patches = h.effects.patches
    await h.step()  # The resync sends two GETs and writes no status when nothing changed.
    assert len(h.arm.hook_calls()) == 2
    assert h.effects.patches == patches


# --- Webhook -----------------------------------------------------------------------------

def webhook_harness(**spec) -> Harness:
    h = with_registry(Harness(webhook(**spec)))
    h.resolver.secrets[("default", "hook")] = {"uri": "https://example.com/h?token=s3cr3t"}
    return h


async def test_ping_once_per_token():
    h = webhook_harness(ping=1)

    await h.step()

    assert len(calls(h, "/ping")) == 1
    last = h.obj["status"]["lastPing"]
    assert last["token"] == "1"
    assert last["id"] == h.arm.hook_responses["ping"]["id"]
    assert last["at"] == "2026-01-01T12:00:00Z"
    assert "Pinged" in h.effects.reasons()
    (_, _, body), = h.arm.writes()
    assert "ping" not in body  # An operator field is never sent to ARM.

    await h.step()  # The resync sends no ping.
    assert len(calls(h, "/ping")) == 1

    bump(h, ping="second")
    await h.step()
    assert len(calls(h, "/ping")) == 2
    assert h.obj["status"]["lastPing"]["token"] == "second"
    assert [m for m, _, _ in h.arm.writes()] == ["PUT"]  # A ping is no write of the webhook.


async def test_no_ping_without_spec_ping():
    h = webhook_harness()

    await h.step()

    assert calls(h, "/ping") == []
    assert "lastPing" not in h.obj["status"]


def _event(number: int, *, stamp: str) -> dict:
    return {
        "id": f"event-{number}",
        "eventRequestMessage": {
            "content": {"id": f"event-{number}", "timestamp": stamp, "action": "push",
                        "target": {"repository": "hello", "tag": "v1", "digest": "sha256:ab",
                                   "url": "https://x/v2/hello/manifests/sha256:ab"},
                        "request": {"host": "x", "useragent": "docker"}},
            "headers": {"Authorization": "Basic c2VjcmV0", "X-Custom": "s3cr3t"},
            "method": "POST",
            "requestUri": "https://example.com/h?token=s3cr3t",
        },
        "eventResponseMessage": {"headers": {"Set-Cookie": "s3cr3t"}, "content": "s3cr3t",
                                 "statusCode": "200"},
    }


async def test_recent_events_keep_no_headers_bodies_or_uri():
    h = webhook_harness()
    h.arm.hook_responses["listEvents"] = {"value": [
        _event(1, stamp="2026-01-01T10:00:00Z"), _event(2, stamp="2026-01-01T11:00:00Z")]}

    await h.step()

    events = h.obj["status"]["recentEvents"]
    assert events[0] == {"id": "event-2", "timestamp": "2026-01-01T11:00:00Z",
                         "action": "push", "statusCode": "200",
                         "target": {"repository": "hello", "tag": "v1", "digest": "sha256:ab"}}
    assert [e["id"] for e in events] == ["event-2", "event-1"]
    assert "s3cr3t" not in repr(h.obj["status"])
    assert [m for m, _, _ in calls(h, "/listEvents")] == ["POST"]


class PagedEventsArm(FakeArm):
    """Serves ListEvents in pages of two through nextLink, as ARM pages lists."""

    def __init__(self, events: list[dict]) -> None:
        super().__init__()
        self.events = events
        self.pages = []

    async def request(self, method, path_or_url, *, body=None, params=None) -> ArmResponse:
        if "listEvents" not in path_or_url:
            return await super().request(method, path_or_url, body=body, params=params)
        self.pages.append((method, path_or_url))
        start = int(path_or_url.rsplit("=", 1)[1]) if "$skipToken=" in path_or_url else 0
        page = {"value": copy.deepcopy(self.events[start:start + 2])}
        if start + 2 < len(self.events):
            page["nextLink"] = f"https://management.azure.com{WEBHOOK_ID}/listEvents" \
                               f"?api-version=2025-06-01-preview&$skipToken={start + 2}"
        return ArmResponse(200, {}, page)


async def test_events_are_read_page_by_page_until_enough():
    events = [_event(n, stamp=f"2026-01-01T{n:02d}:00:00Z") for n in range(1, 12)]
    h = webhook_harness()
    h.arm = h.ctx.client = PagedEventsArm(events)

    await h.step()

    # Three pages of 2 give 6 events, enough for the 5 kept, so later pages are not read.
    assert [m for m, _ in h.arm.pages] == ["POST", "GET", "GET"]
    recent = h.obj["status"]["recentEvents"]
    assert [e["id"] for e in recent] == ["event-6", "event-5", "event-4", "event-3", "event-2"]


def test_event_summary_of_a_ping_has_no_target():
    event = {"id": "p1", "eventRequestMessage": {"content": {
        "id": "p1", "timestamp": "t", "action": "ping"}, "headers": {"X": "y"}},
        "eventResponseMessage": {"statusCode": 204}}
    assert actions.summarise_event(event) == {"id": "p1", "timestamp": "t", "action": "ping",
                                              "statusCode": "204"}


# --- ConnectedRegistry -------------------------------------------------------------------

class DeactivateArm(FakeArm):
    """Serves Deactivate with 202 and a Location, and applies it when the operation ends."""

    async def request(self, method, path_or_url, *, body=None, params=None) -> ArmResponse:
        if method == "POST" and path_or_url.endswith("/deactivate"):
            self.requests.append((method, path_or_url, body))
            return self._start("action", CONNECTED_ID, 202, "Location", None)
        return await super().request(method, path_or_url, body=body, params=params)

    def finish_operations(self, status: str = "Succeeded") -> None:
        super().finish_operations(status)
        props = self.resources[CONNECTED_ID.lower()]["properties"]
        props["activation"] = {"status": "Inactive"}
        props["connectionState"] = "Offline"


def connected(arm: FakeArm | None = None, **spec) -> Harness:
    h = with_registry(Harness(child("ConnectedRegistry", "edge01", {
        "properties": {"mode": "ReadOnly"}, **spec}), arm=arm))
    return h


def activate(h: Harness) -> None:
    props = h.arm.resources[CONNECTED_ID.lower()]["properties"]
    props["activation"] = {"status": "Active"}
    props["connectionState"] = "Online"


async def test_deactivate_runs_only_while_requested_and_active():
    h = connected()
    await h.step()  # Created, and inactive, so there is nothing to deactivate.
    assert calls(h, "/deactivate") == []

    activate(h)
    await h.step()  # Active, but spec.deactivate is not set.
    assert calls(h, "/deactivate") == []

    bump(h, deactivate=True)
    outcome = await h.step()
    assert len(calls(h, "/deactivate")) == 1
    assert h.condition("Ready")["reason"] == "Deactivating"
    assert outcome.delay == 10  # The next step reads the new activation status.
    assert h.obj["status"]["deactivation"] == {"requestedAt": "2026-01-01T12:00:00Z"}
    assert [m for m, _, _ in h.arm.writes()] == ["PUT"]  # deactivate is never in a body.


async def test_deactivate_operation_is_polled_by_the_engine():
    h = connected(arm=DeactivateArm(), deactivate=True)
    await h.step()
    activate(h)

    await h.step()

    operation = h.obj["status"]["operation"]
    assert operation["kind"] == "action"
    assert operation["style"] == "location"
    h.arm.finish_operations()
    h.clock.advance(10)
    await h.step()

    assert [m for m, _, _ in calls(h, "/deactivate")] == ["POST"]
    assert "operation" not in h.obj["status"]
    assert h.obj["status"]["properties"]["activation"] == {"status": "Inactive"}
    assert h.obj["status"]["deactivation"]["completedAt"] == "2026-01-01T12:00:10Z"
    assert h.condition("Ready")["status"] == "True"

    await h.step()  # Inactive now, so nothing more is sent.
    assert [m for m, _, _ in calls(h, "/deactivate")] == ["POST"]


# --- PrivateEndpointConnection -----------------------------------------------------------

def connection(status: str = "Approved") -> Harness:
    return with_registry(Harness(child("PrivateEndpointConnection", "conn01", {
        "properties": {"privateLinkServiceConnectionState": {
            "status": status, "description": "by the platform team"}}})))


async def test_connection_nobody_requested_is_waited_for_not_created():
    h = connection()

    first = await h.step()
    second = await h.step()

    assert h.arm.writes() == []
    assert h.condition("Ready")["status"] == "False"
    assert h.condition("Ready")["reason"] == "ConnectionNotRequested"
    assert h.condition("Reconciling")["status"] == "True"
    assert "private endpoint must request it first" in h.condition("Ready")["message"]
    assert second.delay > first.delay  # The delay grows while no endpoint requests it.


async def test_requested_connection_is_approved_then_rejected_with_puts():
    h = connection()
    await h.step()
    h.arm.resources[PEC_ID.lower()] = {
        "id": PEC_ID, "name": "conn01", "properties": {
            "privateEndpoint": {"id": "/subscriptions/x/providers/Microsoft.Network/pe/app"},
            "privateLinkServiceConnectionState": {"status": "Pending", "description": "asks"},
            "provisioningState": "Succeeded"}}

    await h.step()
    bump(h, properties={"privateLinkServiceConnectionState": {
        "status": "Rejected", "description": "not this one"}})
    await h.step()

    assert [(m, p) for m, p, _ in h.arm.writes()] == [("PUT", PEC_ID), ("PUT", PEC_ID)]
    assert h.arm.writes()[1][2]["properties"]["privateLinkServiceConnectionState"][
        "status"] == "Rejected"
    assert h.condition("Ready")["status"] == "True"


# --- PipelineRun -------------------------------------------------------------------------

def pipeline_run(tag: str) -> Harness:
    h = with_registry(Harness(child("PipelineRun", "run01", {
        "azureName": "run01",
        "properties": {"forceUpdateTag": tag, "request": {
            "pipelineRef": {"kind": "ImportPipeline", "name": "inbound"},
            "source": {"type": "AzureStorageBlob", "name": "hello.tar.gz"}}}})))
    h.resolver.add_ready("ImportPipeline", "inbound", IMPORT_PIPELINE_ID)
    return h


async def test_pipeline_run_reruns_on_new_tag():
    h = pipeline_run("one")
    await h.step()
    await h.step()  # the resync

    bump(h, properties={**h.obj["spec"]["properties"], "forceUpdateTag": "two"})
    await h.step()
    await h.step()

    puts = h.arm.writes()
    assert [(m, p) for m, p, _ in puts] == [("PUT", RUN_ID), ("PUT", RUN_ID)]
    assert puts[0][2]["properties"]["request"]["pipelineResourceId"] == IMPORT_PIPELINE_ID
    assert "pipelineRef" not in puts[0][2]["properties"]["request"]
    assert puts[1][2]["properties"]["forceUpdateTag"] == "two"
