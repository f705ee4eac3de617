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

BODY = web.RequestKey("body", bytes)
BODY_REFUSED = web.RequestKey("body_refused", bool)  # the body broke its contract: the journal shows its size only
CUSTOMER = web.RequestKey("customer", str)
FAULT = web.RequestKey("fault", str)
