"""Tracking: polling a supplier for statuses, the webhook receiver, and the contract violations kept."""

from __future__ import annotations

import logging

from aiohttp import web

from contracts.signing import SIGNATURE, TIMESTAMP
from portal.adapters import webhooks
from portal.domain.errors import InvalidInput, Unauthorized
from portal.domain.messages import WebhookEvent
from portal.entrypoints import views
from portal.entrypoints.http import ident, json_body, ok
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import tracking

hooks_log = logging.getLogger("portal.webhooks")


async def poll(request: web.Request) -> web.Response:
    order, outcome = await tracking.poll_stock_order(request.app[PORTAL], ident(request, "id"))
    return ok({**views.stock_order(order), "poll": {"result": outcome.result, "detail": outcome.detail}})


async def poll_supplier(request: web.Request) -> web.Response:
    return ok(await tracking.poll_open_orders(request.app[PORTAL], ident(request, "id")))


async def violations(request: web.Request) -> web.Response:
    found = await tracking.violations(request.app[PORTAL], ident(request, "id"))
    return ok({"items": [views.violation(v) for v in found]})


async def webhook(request: web.Request) -> web.Response:
    """A supplier's event: signed and fresh, then valid JSON, then within the contract, or it is refused."""
    portal = request.app[PORTAL]
    raw = await json_body(request)
    signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
    customer_id = ident(request, "id")

    def read(secret: str | None) -> WebhookEvent:
        why = webhooks.refused(secret, raw, signature, timestamp)
        if why:
            hooks_log.warning("refused a webhook event for customer number %s: %s", customer_id, why)
            raise Unauthorized(why)
        try:
            return webhooks.event_of(raw)
        except webhooks.NotJson as exc:
            raise InvalidInput(str(exc)) from None

    try:
        outcome = await tracking.receive_signed_event(portal, customer_id, read)
    except webhooks.BrokenEvent as exc:
        await tracking.keep_broken_event(portal, customer_id, exc.listed, raw.decode(errors="replace"))
        raise InvalidInput(f"the event breaks the contract: {exc.listed}") from None
    return ok({"result": outcome.result, "detail": outcome.detail})


ROUTES: list[web.RouteDef] = [
    web.post("/api/stock-orders/{id}/poll", poll, name="stock-order.poll"),
    web.post("/api/suppliers/{id}/poll", poll_supplier, name="supplier.poll"),
    web.get("/api/suppliers/{id}/contract-violations", violations, name="supplier.violations"),
    web.post("/api/webhooks/{id}", webhook, name="webhook"),
]
