"""The simulator's live dashboard under /_sim/ui: what the admin API holds, for a person, as it happens.

It lives under /_sim/, so it has the admin API's protection (loopback, or the admin token) and exists only
when the admin API does. Its pages are not journaled: a person watching is not the supplier's traffic.
Actions go through the admin API's own endpoints, from the page's script.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

from contracts.dashboard import event_stream, page
from contracts.redaction import redact_query
from contracts.statuses import STATUSES
from contracts.wire import format_timestamp
from supplier_sim.inspection import journal_filters
from supplier_sim.journal import Exchange
from supplier_sim.problems import Problem
from supplier_sim.profile import Delay
from supplier_sim.simulator import Simulator
from supplier_sim.typedefs import HUB, SIM

APP_NAME = "Supplier simulator"
ADMIN_COOKIE = "sim_admin_token"  # a browser's admin token: the sign-in page sets it, SameSite=Strict
SIGN_IN_PATH = "/_sim/ui/login"
NAV = (
    ("ui.orders", "Orders"),
    ("ui.journal", "Journal"),
    ("ui.clock", "Clock"),
    ("ui.faults", "Faults"),
    ("ui.profile", "Profile"),
)
STEPS = ("1m", "10m", "1h", "1d")
MAX_ROWS = 500
JOURNAL_ROWS = 200
UPCOMING = 10
# Headers a client library adds by itself; a copied curl command reads better without them.
# A browser's cookie holds the dashboard's admin token: blanked, it would only make the copy fail.
CURL_SKIPS = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "accept", "cookie"})


def _page(request: web.Request, template: str, title: str, current: str, **context: Any) -> web.Response:
    router = request.app.router
    nav = [{"href": router[name].url_for(), "label": label, "current": name == current} for name, label in NAV]
    events = router["ui.events"].url_for()
    return page("supplier_sim", template, app_name=APP_NAME, title=title, nav=nav, events_url=events, **context)


async def _clock(sim: Simulator) -> dict[str, Any]:
    return {"mode": sim.clock.mode, "now": format_timestamp(sim.clock.now_ms()), "next": await sim.next_due()}


async def orders(request: web.Request) -> web.Response:
    """Every order the supplier holds, newest first, by customer and status."""
    sim = request.app[SIM]
    customer, status = request.query.get("customer") or None, request.query.get("status") or None
    shown = await sim.orders.recent(customer, status, MAX_ROWS)
    names = {c.number: c.name for c in sim.profile.customers}
    return _page(
        request,
        "sim-orders.html.j2",
        "Orders",
        "ui.orders",
        orders=shown,
        names=names,
        statuses=STATUSES,
        chosen={"customer": customer or "", "status": status or ""},
        clock=await _clock(sim),
        steps=STEPS,
    )


async def order(request: web.Request) -> web.Response:
    """One order's timeline: its requests, status moves, webhook attempts and dispatch notifications, in time."""
    sim = request.app[SIM]
    order_id = request.match_info["orderId"]
    found = await sim.orders.get(None, order_id)
    if found is None:
        raise Problem.not_found("the simulator holds no order with this id")
    notes, _ = await sim.orders.dispatch_notifications(None, order_id, 1, 100_000) or ([], 0)
    exchanges = [_shown(e) for e in sim.journal.mentioning(order_id)]
    events = await sim.hooks.for_order(order_id)
    entries = [
        *({"at": x["at"], "kind": "request", "exchange": x} for x in exchanges),
        *({"at": move["at"], "kind": "move", "move": move} for move in found["statusHistory"]),
        *({"at": event["createdAt"], "kind": "webhook", "event": event} for event in events),
        *({"at": note["dispatchedAt"], "kind": "dispatch", "note": note} for note in notes),
    ]
    order_of = {"request": 0, "move": 1, "dispatch": 2, "webhook": 3}  # at one instant, the cause comes first
    entries.sort(key=lambda entry: (entry["at"], order_of[entry["kind"]]))
    products = {line["productNumber"]: sim.catalog.get(line["productNumber"]) for line in found["lines"]}
    return _page(
        request,
        "sim-order.html.j2",
        f"Order {order_id}",
        "ui.orders",
        order=found,
        entries=entries,
        products={number: (p or {}).get("name", "") for number, p in products.items()},
        clock=await _clock(sim),
        steps=STEPS,
    )


async def journal(request: web.Request) -> web.Response:
    """The request journal, filtered; each refusal explained, each exchange ready to copy as curl."""
    sim = request.app[SIM]
    errors: dict[str, str] = {}
    try:
        filters = journal_filters(request.query, JOURNAL_ROWS)
        found = sim.journal.query(**filters)
    except Problem as problem:
        errors = {e.pointer.removeprefix("/query/"): e.message for e in problem.errors}
        found = []
    origin = f"{request.scheme}://{request.host}"
    rows = [{**_shown(e), "curl": curl(e, origin), "why": _why(e)} for e in reversed(found)]
    fields = ("method", "path", "status", "customer", "since", "limit")
    return _page(
        request,
        "sim-journal.html.j2",
        "Journal",
        "ui.journal",
        rows=rows,
        errors=errors,
        chosen={name: request.query.get(name, "") for name in fields},
        customers=[c.number for c in sim.profile.customers],
    )


async def clock(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    upcoming = await sim.lifecycle.upcoming(UPCOMING)
    upcoming += [(at, what, None) for at, what in await sim.hooks.waiting(UPCOMING)]
    upcoming.sort(key=lambda item: item[0])
    shown = [{"at": format_timestamp(at), "what": what, "orderId": oid} for at, what, oid in upcoming[:UPCOMING]]
    return _page(
        request, "sim-clock.html.j2", "Clock", "ui.clock", clock=await _clock(sim), upcoming=shown, steps=STEPS
    )


async def faults(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    rules = list(sim.profile.faults)
    hits = zip(rules, sim.faults.hits, strict=True)
    return _page(
        request,
        "sim-faults.html.j2",
        "Faults",
        "ui.faults",
        rules=[{"rule": orjson.dumps(rule).decode(), "hits": count} for rule, count in hits],
        text=orjson.dumps(rules, option=orjson.OPT_INDENT_2).decode(),
    )


async def profile(request: web.Request) -> web.Response:
    """The profile's settings and its customers: never a password, an API key or a webhook's secret or URL."""
    sim = request.app[SIM]
    p = sim.profile
    settings = {
        "profile": p.name,
        "seed": sim.seed,
        "clock": f"{sim.clock.mode}, starting {format_timestamp(p.clock_start_ms)}",
        "catalog": f"{len(sim.catalog.products())} products ({p.currency})",
        "processing delay": _delay(p.processing_delay),
        "acceptance delay": _delay(p.acceptance_delay),
        "dispatch delay": _delay(p.dispatch_delay),
        "random rejection rate": p.random_rejection_rate,
        "webhooks": f"at most {p.webhook_max_attempts} attempts, backoff from {p.webhook_backoff_ms} ms",
        "journal size": p.journal_size,
        "misbehaviour": ", ".join(name for name, on in _switches(p.misbehave) if on) or "none",
    }
    registered = sim.hooks.registrations
    customers = [
        {
            "number": c.number,
            "name": c.name,
            "auth": c.auth,
            "blocked": c.blocked,
            "webhook": format_timestamp(registered[c.number].registered_ms) if c.number in registered else None,
        }
        for c in p.customers
    ]
    return _page(request, "sim-profile.html.j2", "Profile", "ui.profile", settings=settings, customers=customers)


def _delay(delay: Delay) -> str:
    if delay.median_ms is not None:
        return f"median {delay.median_ms / 1000:g} s, at most {delay.high_ms / 1000:g} s"
    if delay.low_ms == delay.high_ms:
        return f"{delay.low_ms / 1000:g} s"
    return f"{delay.low_ms / 1000:g} to {delay.high_ms / 1000:g} s"


def _switches(misbehave: Any) -> list[tuple[str, bool]]:
    return [(name, bool(getattr(misbehave, name))) for name in misbehave.__dataclass_fields__]


async def sign_in(request: web.Request) -> web.Response:
    """Where a browser gives the admin token: the page's script keeps it in a SameSite=Strict cookie."""
    return page("supplier_sim", "sim-login.html.j2", app_name=APP_NAME, title="Sign in", nav=[], cookie=ADMIN_COOKIE)


async def events(request: web.Request) -> web.StreamResponse:
    return await event_stream(request, request.app[HUB], _render)


def _render(kind: str, item: Any) -> dict[str, Any] | None:
    """An event as the page gets it; the simulator publishes plain, secret-free values, or a raw exchange."""
    return _summary(item) if kind == "exchange" else item


def _summary(exchange: Exchange) -> dict[str, Any]:
    return {
        "seq": exchange.seq,
        "at": format_timestamp(exchange.at_ms),
        "method": exchange.method,
        "path": exchange.path,
        "query": redact_query(exchange.query),
        "status": exchange.status,
        "customerNumber": exchange.customer,
        "durationMs": round(exchange.duration_ms, 3),
        "fault": exchange.fault,
    }


def _shown(exchange: Exchange) -> dict[str, Any]:
    """An exchange with its secrets blanked, its bodies as indented JSON."""
    shown = exchange.to_json()
    for side in ("request", "response"):
        body = shown[side]["body"]
        shown[side]["text"] = (
            body if isinstance(body, str) or body is None else orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()
        )
    return shown


def _why(exchange: Exchange) -> dict[str, Any] | None:
    """Why a 4xx was refused: the problem's detail and each pointer with its rule."""
    if not 400 <= exchange.status < 500:
        return None
    body = exchange.to_json()["response"]["body"]
    if not isinstance(body, dict):
        return {"detail": "the answer was not a problem document", "errors": []}
    errors = [e for e in body.get("errors", []) if isinstance(e, dict)]
    return {"detail": body.get("detail") or body.get("title") or "", "errors": errors}


def curl(exchange: Exchange, origin: str) -> str:
    """The exchange's request as a curl command, with every secret blanked."""
    shown = exchange.to_json()
    query = f"?{shown['query']}" if shown["query"] else ""
    path = quote(exchange.path, safe="/!$&'()*+,;=:@-._~")  # the journal keeps it decoded; a URL needs it encoded
    parts = ["curl", "-X", exchange.method, shlex.quote(origin + path + query)]
    for name, value in shown["request"]["headers"].items():
        if name.lower() not in CURL_SKIPS:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = shown["request"]["body"]
    if exchange.body_refused:
        return " ".join(parts) + "  # its body was refused and is not kept: a secret may sit anywhere in it"
    if body is not None:
        parts += ["--data-raw", shlex.quote(body if isinstance(body, str) else orjson.dumps(body).decode())]
    return " ".join(parts)


def setup_dashboard_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sim/ui", orders, name="ui.orders")
    router.add_get("/_sim/ui/orders/{orderId}", order, name="ui.order")
    router.add_get("/_sim/ui/journal", journal, name="ui.journal")
    router.add_get("/_sim/ui/clock", clock, name="ui.clock")
    router.add_get("/_sim/ui/faults", faults, name="ui.faults")
    router.add_get("/_sim/ui/profile", profile, name="ui.profile")
    router.add_get("/_sim/ui/events", events, name="ui.events")
    router.add_get(SIGN_IN_PATH, sign_in, name="ui.login")
