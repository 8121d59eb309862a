"""ARM actions and read-only lists of a Ready resource, as after-ready hooks.

Each hook (see `extras`) runs on every reconcile that finds its resource
Ready, the resync included, and sends nothing that is not due:

- Registry: ListUsages and ListPrivateLinkResources, summarised in status,
  two GETs per reconcile. Both change without any write by the operator
  (storage grows, a replication adds a required member), so they are read
  each time.
- Webhook: one Ping for each new value of spec.ping, recorded in
  status.lastPing, then the newest events of ListEvents. The summary leaves
  out request and response headers and bodies, because the webhook's custom
  headers are secret and a receiver's response may repeat them.
- ConnectedRegistry: Deactivate while spec.deactivate is true and Azure
  reports the connected registry active. Its long-running operation goes to
  status.operation, which the engine polls like its own.

A crash between a Ping and the status write sends that ping once more after
the restart. A repeated ping does no harm, so no marker guards it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acr_operator.arm.lro import begin_operation, format_time, seconds_until_poll
from acr_operator.reconciler import outputs
from acr_operator.reconciler.conditions import Verdict, progressing
from acr_operator.reconciler.extras import Step

USAGES = "usages"
PRIVATE_LINK_RESOURCES = "privateLinkResources"
LAST_PING = "lastPing"
RECENT_EVENTS = "recentEvents"
DEACTIVATION = "deactivation"

# Webhook events kept in status, and the most pages of ListEvents read per reconcile.
# The API does not document the order of events, so the events read are sorted by time.
EVENTS_KEPT = 5
EVENT_PAGES = 3
# The most pages of ListPrivateLinkResources read per reconcile (the document marks it
# pageable, and a registry has one private link resource per group id).
LINK_PAGES = 3


# --- Registry ----------------------------------------------------------------------------

async def list_usages(step: Step) -> None:
    """Copy the registry's usage figures (size, webhooks, replications, ...) into status."""
    path = outputs.action_path("Registries_ListUsages", step.placement.params)
    body = (await step.ctx.client.request("GET", path)).body or {}
    step.status[USAGES] = [_usage(item) for item in body.get("value") or () if isinstance(item, dict)]


async def list_private_link_resources(step: Step) -> None:
    """Copy the registry's private link resources (group ids, required members) into status."""
    path = outputs.action_path("Registries_ListPrivateLinkResources", step.placement.params)
    items = await _pages(step, "GET", path, pages=LINK_PAGES)
    step.status[PRIVATE_LINK_RESOURCES] = [_link_resource(item) for item in items]


def _usage(item: Mapping[str, Any]) -> dict:
    return {k: item[k] for k in ("name", "currentValue", "limit", "unit") if k in item}


def _link_resource(item: Mapping[str, Any]) -> dict:
    props = item.get("properties") or {}
    summary = {"name": item.get("name")}
    for key in ("groupId", "requiredMembers", "requiredZoneNames"):
        if key in props:
            summary[key] = props[key]
    return summary


# --- Webhook -----------------------------------------------------------------------------

async def ping_on_request(step: Step) -> None:
    """Send one Ping for each new value of spec.ping; record it in status.lastPing."""
    requested = step.spec.get("ping")
    if requested is None:
        return
    token = str(requested)
    if (step.status.get(LAST_PING) or {}).get("token") == token:
        return
    path = outputs.action_path("Webhooks_Ping", step.placement.params)
    body = (await step.ctx.client.request("POST", path)).body or {}
    event_id = body.get("id") if isinstance(body, dict) else None
    step.status[LAST_PING] = {"token": token, "id": event_id, "at": format_time(step.ctx.now())}
    step.ctx.logger.info("Pinged the webhook for spec.ping %s (event %s).", token, event_id)
    step.ctx.effects.post_event("Normal", "Pinged", (
        f"Sent a ping to the webhook for spec.ping {token}; ARM's event id is {event_id}."
    ))


async def summarise_events(step: Step) -> None:
    """Keep the newest webhook events in status.recentEvents, without headers or bodies."""
    path = outputs.action_path("Webhooks_ListEvents", step.placement.params)
    items = await _pages(step, "POST", path, pages=EVENT_PAGES, enough=EVENTS_KEPT)
    events = [summarise_event(item) for item in items]
    events.sort(key=lambda e: str(e.get("timestamp") or ""), reverse=True)
    step.status[RECENT_EVENTS] = events[:EVENTS_KEPT]


def summarise_event(event: Mapping[str, Any]) -> dict:
    """Return the fields of a webhook event that are safe to show: no headers, bodies or URI."""
    request = event.get("eventRequestMessage") or {}
    content = request.get("content") or {}
    response = event.get("eventResponseMessage") or {}
    summary: dict[str, Any] = {"id": event.get("id") or content.get("id")}
    for key in ("timestamp", "action"):
        if content.get(key) is not None:
            summary[key] = content[key]
    target = content.get("target") or {}
    picked = {k: target[k] for k in ("repository", "tag", "digest") if target.get(k)}
    if picked:
        summary["target"] = picked
    if response.get("statusCode") is not None:
        summary["statusCode"] = str(response["statusCode"])
    return summary


# --- ConnectedRegistry -------------------------------------------------------------------

async def deactivate_on_request(step: Step) -> Verdict | None:
    """While spec.deactivate is true, deactivate the connected registry whenever it is active."""
    if step.spec.get("deactivate") is not True:
        return None
    activation = ((step.observed.get("properties") or {}).get("activation") or {}).get("status")
    record = dict(step.status.get(DEACTIVATION) or {})
    if str(activation).lower() != "active":
        if record.get("requestedAt") and not record.get("completedAt"):
            record["completedAt"] = format_time(step.ctx.now())
            step.status[DEACTIVATION] = record
        return None

    ctx = step.ctx
    path = outputs.action_path("ConnectedRegistries_Deactivate", step.placement.params)
    ctx.effects.post_event("Normal", "Deactivating", (
        "Deactivating the connected registry, as spec.deactivate is true and Azure reports it "
        "active."
    ))
    response = await ctx.client.request("POST", path)
    step.status[DEACTIVATION] = {"requestedAt": format_time(ctx.now())}
    operation = begin_operation(
        "action", response.status, response.headers,
        now=ctx.now(), default_poll=ctx.settings.default_poll_seconds,
    )
    if operation is None:
        # Done at once, and the GET of the next step shows the new activation status.
        delay = ctx.settings.default_poll_seconds
    else:
        # The engine polls a saved operation on the next step, as it does for its writes.
        operation["generation"] = step.generation
        step.status["operation"] = operation
        delay = seconds_until_poll(operation, now=ctx.now())
    step.request_delay(delay)
    return progressing("Deactivating", (
        f"Azure is deactivating the connected registry; looking again in {delay:.0f} seconds."
    ))


# --- helpers -----------------------------------------------------------------------------



async def _pages(step: Step, method: str, path: str, *, pages: int,
                 enough: int | None = None) -> list[dict]:
    """Return the items of a pageable list, read from at most `pages` pages (or `enough`)."""
    items: list[dict] = []
    url: str | None = path
    for number in range(pages):
        # ARM serves the next pages of a list with GET, also when the first page was a POST.
        body = (await step.ctx.client.request(method if number == 0 else "GET", url)).body
        body = body if isinstance(body, dict) else {}
        items += [item for item in body.get("value") or () if isinstance(item, dict)]
        url = body.get("nextLink")
        if not url or (enough is not None and len(items) >= enough):
            break
    return items
