"""The simulator's aiohttp application."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiohttp import web

from contracts import contracts
from contracts.dashboard import EventHub
from contracts.loader import openapi_text
from contracts.serving import body_deadline, has_nul
from supplier_sim.admin import admin_token, same_origin, setup_admin_routes
from supplier_sim.api import setup_api_routes
from supplier_sim.config import MAX_BODY, SimConfig
from supplier_sim.faults import inflict
from supplier_sim.journal import Exchange
from supplier_sim.problems import PROBLEM_JSON, Problem, from_http_exception, internal_error
from supplier_sim.simulator import Simulator
from supplier_sim.typedefs import BODY, BODY_REFUSED, CONFIG, CUSTOMER, ERRORS, FAULT, HUB, SIM

log = logging.getLogger("supplier_sim")
JOURNAL_BODY_LIMIT = 64 * 1024  # a full journal of 1 MiB bodies would hold gigabytes
OPENAPI_PATH = "/api/v1/openapi.yaml"
# Reading the journal, a health check and the API's own document are the harness's traffic, not the supplier's.
UNJOURNALED = frozenset({"/_sim/journal", "/healthz", OPENAPI_PATH})
DASHBOARD_PREFIX = "/_sim/ui"
DOCUMENTED_SERVER = "servers:\n  - url: http://127.0.0.1:8080\n"

# The contract each route's successful answer must meet, for strict mode and the tests.
RESPONSE_SCHEMAS = {
    "admin.clock": "sim-clock",
    "admin.advance": "sim-clock",
    "admin.reset": "sim-clock",
    "admin.profile": "sim-clock",
    "admin.transition": "order",
    "admin.dispatch": "dispatch-notification",
    "admin.catalog-change": "product",
    "admin.credentials": "sim-credentials",
    "admin.expire-tokens": "sim-expired-tokens",
    "admin.orders": "sim-orders",
    "admin.notes": "sim-dispatch-notifications",
    "admin.faults.hits": "sim-fault-hits",
    "admin.catalog": "sim-catalog",
    "auth": "auth-token",
    "products": "product-page",
    "orders.create": "order",
    "orders.list": "order-page",
    "order": "order",
    "dispatch-notifications": "dispatch-notification-page",
    "webhook.put": "webhook",
    "webhook.get": "webhook",
}


def create_app(config: SimConfig | None = None) -> web.Application:
    config = config or SimConfig()
    # Every middleware costs each request a call: the admin token's only runs when one is set.
    middlewares = [
        journaling,
        faulting,
        problems,
        *([same_origin] if config.admin else []),
        *([admin_token] if config.admin and config.admin_token else []),  # before any body is read
        body_deadline,
    ]
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    app[CONFIG] = config
    app[ERRORS] = []
    app[HUB] = EventHub()
    app.on_shutdown.append(_close_hub)
    app.cleanup_ctx.append(_simulator)
    setup_api_routes(app)
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get(OPENAPI_PATH, openapi_document, name="openapi")
    if config.admin:
        setup_admin_routes(app)
    return app


async def healthz(request: web.Request) -> web.Response:
    """Cheap: the process answers; nothing is read from the database."""
    return web.Response(body=b'{"status":"ok"}', content_type="application/json", headers={"Cache-Control": "no-store"})


async def openapi_document(request: web.Request) -> web.Response:
    """Supplier API v1 as this simulator serves it, for a client generator or a fuzzer; it needs no login.

    Its server is the one that answers, on whatever port it was started.
    """
    text = openapi_text().replace(DOCUMENTED_SERVER, f"servers:\n  - url: {request.scheme}://{request.host}\n", 1)
    return web.Response(text=text, content_type="application/yaml")


async def _close_hub(app: web.Application) -> None:
    app[HUB].close()  # or a stopping server would wait for the open dashboards


async def _simulator(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    sim = Simulator(config.profile, config.seed, config.clock, config.db_url, app[HUB], config.shared)
    try:
        await sim.start()
    except BaseException:
        await sim.close()
        raise
    app[SIM] = sim
    yield
    await sim.close()


@web.middleware
async def problems(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error leaves as problem+json; a crash is logged and kept for SimServer.check()."""
    try:
        if has_nul(request):
            raise Problem.malformed("NUL characters are not allowed in the path or the query")
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http_exception(exc).response()
    except ConnectionResetError:  # the client gave up while its body was being read: nobody hears an answer
        log.info("%s %s: the client went away", request.method, request.path)
        return web.Response(status=499)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        request.app[ERRORS].append(f"{request.method} {request.path}: {traceback.format_exc()}")
        return internal_error().response()


@web.middleware
async def faulting(request: web.Request, handler: Any) -> web.StreamResponse:
    """The profile's fault rules, on the Supplier API only; the journal records which fault hit."""
    sim = request.app[SIM]
    if not sim.faults.rules or not request.path.startswith("/api/") or request.path == OPENAPI_PATH:
        return await handler(request)
    picked = sim.faults.pick(request)
    if picked is None:
        return await handler(request)
    rule, count = picked
    request[FAULT] = rule.describe()
    return await inflict(rule, count, request, handler, sim.seed)


@web.middleware
async def journaling(request: web.Request, handler: Any) -> web.StreamResponse:
    """Journals every exchange but reading the journal or a login, and in strict mode checks each answer."""
    started = time.perf_counter()
    request[BODY], request[BODY_REFUSED], request[CUSTOMER], request[FAULT] = None, False, None, None
    response = await handler(request)
    path = request.path
    if path in UNJOURNALED or path.startswith(DASHBOARD_PREFIX):
        return response
    sim = request.app[SIM]
    route = request.match_info.route.name
    fault = request[FAULT]
    # A harness reading a customer's login is not the supplier's traffic, and its answer is a secret.
    if route != "admin.credentials":
        journal = sim.journal
        body = response.body if isinstance(response, web.Response) else None
        raw = request[BODY]
        # An Exchange's fields as the plain tuple the journal keeps: the Exchange itself is made only
        # for a dashboard that follows the exchanges.
        entry = (
            journal.next_seq(),
            sim.clock.now_ms(),
            request.method,
            path,
            request.query_string,
            request.raw_headers,
            raw[:JOURNAL_BODY_LIMIT] if raw else None,
            response.status,
            tuple([(str(name), value) for name, value in response.headers.items()]),
            body[:JOURNAL_BODY_LIMIT] if isinstance(body, bytes) else None,
            request[CUSTOMER],
            (time.perf_counter() - started) * 1000,
            fault,
            request[BODY_REFUSED],
        )
        journal.append(entry)
        if sim.hub.listening and sim.hub.wants("exchange"):
            sim.hub.publish("exchange", Exchange._make(entry))
    # A misbehave switch breaks its routes' answers on purpose, for certification to catch:
    # those are not the simulator's errors, so strict mode leaves them (and only them) unchecked.
    # An inflicted fault breaks the answer on purpose, too.
    if request.app[CONFIG].strict and route not in sim.saboteur.unchecked_routes and fault is None:
        request.app[ERRORS].extend(check_response(request, response))
    return response


def check_response(request: web.Request, response: web.StreamResponse) -> list[str]:
    """Where an answer breaks its contract: content type, problem shape, or the route's schema."""
    where = f"{request.method} {request.path} -> {response.status}"
    body = response.body if isinstance(response, web.Response) else None
    if response.status == 204:
        return [f"{where}: a 204 has a body"] if body else []
    if response.status >= 400:
        schema, content_type = "problem", PROBLEM_JSON
    else:
        route = request.match_info.route.name
        if route not in RESPONSE_SCHEMAS:
            # The admin API's listings have no contract; every Supplier API route must.
            return [f"{where}: no contract for route {route}"] if request.path.startswith("/api/") else []
        schema, content_type = RESPONSE_SCHEMAS[route], "application/json"
    problems = []
    if response.content_type != content_type:
        problems.append(f"{where}: Content-Type {response.content_type}, expected {content_type}")
    try:
        decoded = orjson.loads(body) if isinstance(body, bytes) else None
    except orjson.JSONDecodeError:
        return [*problems, f"{where}: the body is not JSON"]
    problems += [f"{where}: {v.pointer}: {v.message}" for v in contracts().errors(schema, decoded)]
    if schema == "problem" and isinstance(decoded, dict) and decoded.get("status") != response.status:
        problems.append(f"{where}: the problem's status {decoded.get('status')} differs from the HTTP status")
    return problems
