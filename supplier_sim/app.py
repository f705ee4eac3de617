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
from supplier_sim.admin import admin_token, setup_admin_routes
from supplier_sim.api import RESPONSE_SCHEMAS, setup_api_routes
from supplier_sim.config import MAX_BODY, SimConfig
from supplier_sim.journal import Exchange
from supplier_sim.problems import PROBLEM_JSON, Problem, from_http_exception, internal_error
from supplier_sim.simulator import Simulator
from supplier_sim.typedefs import BODY, CONFIG, CUSTOMER, ERRORS, SIM

log = logging.getLogger("supplier_sim")


def create_app(config: SimConfig | None = None) -> web.Application:
    config = config or SimConfig()
    app = web.Application(client_max_size=MAX_BODY, middlewares=[exchanges, admin_token])
    app[CONFIG] = config
    app[ERRORS] = []
    app.cleanup_ctx.append(_simulator)
    setup_api_routes(app)
    if config.admin:
        setup_admin_routes(app)
    return app


async def _simulator(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    sim = Simulator(config.profile, config.seed, config.clock, config.db_url)
    try:
        await sim.start()
    except BaseException:
        await sim.close()
        raise
    app[SIM] = sim
    yield
    await sim.close()


@web.middleware
async def exchanges(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turns every error into problem+json, and journals (and in strict mode checks) each API answer."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Problem as problem:
        response = problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = from_http_exception(exc).response()
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        request.app[ERRORS].append(f"{request.method} {request.path}: {traceback.format_exc()}")
        response = internal_error().response()
    if request.path.startswith("/api/"):
        sim = request.app[SIM]
        journal = sim.journal
        body = response.body if isinstance(response, web.Response) else None
        journal.append(
            Exchange(
                journal.next_seq(),
                sim.clock.now_ms(),
                request.method,
                request.path,
                request.query_string,
                request.raw_headers,
                request.get(BODY),
                response.status,
                tuple((str(name), value) for name, value in response.headers.items()),
                body if isinstance(body, bytes) else None,
                request.get(CUSTOMER),
                (time.perf_counter() - started) * 1000,
            )
        )
        if request.app[CONFIG].strict:
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
            return [f"{where}: no contract for route {route}"]
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
