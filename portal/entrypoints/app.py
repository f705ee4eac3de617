"""The portal's HTTP API: one endpoint per user action of the manual, and the webhook receiver."""

from __future__ import annotations

from aiohttp import web

from contracts.dashboard import EventHub
from contracts.loader import portal_openapi_text
from contracts.serving import body_deadline
from portal.entrypoints.http import MAX_BODY, problems, same_origin
from portal.entrypoints.routes import carts, dashboard, outbox, reads, receiving, setup, stock_orders, tracking
from portal.entrypoints.typedefs import HUB, PORTAL
from portal.service_layer.context import Portal

RESOURCES = (setup, carts, stock_orders, outbox, tracking, receiving, reads, dashboard)
DOCUMENT = portal_openapi_text().encode()


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=DOCUMENT, content_type="application/yaml", charset="utf-8")


async def _close_hub(app: web.Application) -> None:
    app[HUB].close()  # open dashboards would otherwise hold the shutdown up


def create_app(portal: Portal) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[problems, same_origin, body_deadline])
    app[PORTAL] = portal
    # The dashboard's hub is the portal's port for events: its unit of work publishes what each commit kept.
    portal.events = app[HUB] = EventHub()
    app.on_shutdown.append(_close_hub)
    app.router.add_get("/api/openapi.yaml", openapi, name="openapi")
    for resource in RESOURCES:
        app.router.add_routes(resource.ROUTES)
    return app
