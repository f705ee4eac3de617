"""Every key of the simulator's application and requests, typed."""

from __future__ import annotations

from aiohttp import web

from contracts.dashboard import EventHub
from supplier_sim.config import SimConfig
from supplier_sim.simulator import Simulator

CONFIG = web.AppKey("config", SimConfig)
SIM = web.AppKey("sim", Simulator)
ERRORS = web.AppKey("errors", list[str])
HUB = web.AppKey("hub", EventHub)  # the dashboard's live events; the simulator publishes into it

# What the journal keeps of a request besides its line and headers: the journaling middleware sets
# each first (None, False), so that reading one never costs a missing key's exception.
BODY: web.RequestKey[bytes | None] = web.RequestKey("body")
BODY_REFUSED = web.RequestKey("body_refused", bool)  # the body broke its contract: the journal shows its size only
CUSTOMER: web.RequestKey[str | None] = web.RequestKey("customer")
FAULT: web.RequestKey[str | None] = web.RequestKey("fault")  # the fault the profile inflicted
