"""The outbox: what waits to be sent, delivering it now, withdrawing an order, and the worker's round on demand."""

from __future__ import annotations

from aiohttp import web

from portal.entrypoints import views
from portal.entrypoints.http import ident, ok
from portal.entrypoints.typedefs import PORTAL
from portal.entrypoints.worker import sync
from portal.service_layer import sending


async def get_outbox(request: web.Request) -> web.Response:
    return ok({"items": [views.outbox_entry(intent) for intent in await sending.outbox(request.app[PORTAL])]})


async def deliver_outbox(request: web.Request) -> web.Response:
    """Attempt every waiting order now, without waiting for its next attempt: after an outage is over."""
    return ok(await sending.deliver_due(request.app[PORTAL], everything=True))


async def withdraw_from_outbox(request: web.Request) -> web.Response:
    return ok(views.stock_order(await sending.withdraw(request.app[PORTAL], ident(request, "id"))))


async def sync_now(request: web.Request) -> web.Response:
    """The worker's round, now: every waiting order attempted, statuses polled, dispatches fetched."""
    return ok(await sync(request.app[PORTAL], everything=True))


ROUTES: list[web.RouteDef] = [
    web.get("/api/outbox", get_outbox, name="outbox"),
    web.post("/api/outbox/deliver", deliver_outbox, name="outbox.deliver"),
    web.delete(r"/api/outbox/{id:\d+}", withdraw_from_outbox, name="outbox.withdraw"),  # not /deliver
    web.post("/api/sync", sync_now, name="sync"),
]
