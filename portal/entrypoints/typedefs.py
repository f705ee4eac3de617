"""Every key of the portal's aiohttp app, in one place."""

from __future__ import annotations

from aiohttp import web

from contracts.dashboard import EventHub
from portal.service_layer.context import Portal

PORTAL = web.AppKey("portal", Portal)
HUB = web.AppKey("hub", EventHub)  # the dashboard's live events; the portal's unit of work publishes to it
