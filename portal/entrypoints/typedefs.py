"""Every key of the portal's aiohttp app, in one place."""

from __future__ import annotations

from aiohttp import web

from portal.service_layer.context import Portal

PORTAL = web.AppKey("portal", Portal)
