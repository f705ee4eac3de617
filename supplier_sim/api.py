"""Supplier API v1, as the simulator serves it."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from yarl import URL

from contracts import Violation
from contracts.business import order_request
from contracts.statuses import STATUSES
from contracts.wire import format_timestamp
from supplier_sim.auth import WRONG_PASSWORD, wrong_credentials
from supplier_sim.http import (
    DEFAULT_PAGE_SIZE,
    JSON,
    clamped_paging,
    json_response,
    page_body,
    paging,
    read_json,
    timestamp,
)
from supplier_sim.problems import Problem
from supplier_sim.profile import Customer
from supplier_sim.typedefs import BODY, BODY_REFUSED, CUSTOMER, SIM

MAX_KEY = 255
STATUS_RULE = "must be a comma-separated list of " + ", ".join(STATUSES)


def _customer(request: web.Request, leaks: bool = False) -> Customer:
    """The calling customer, who must own the path's number (unless ``leaks`` and leakOtherCustomer)."""
    sim = request.app[SIM]
    number = request.match_info["customerNumber"]
    try:
        customer = sim.auth.authorize(request.headers, number)
    except Problem as problem:
        customer = sim.saboteur.let_in(problem, request.headers, number, sim.auth, leaks)
    if sim.saboteur.refuses_good_credentials:
        raise wrong_credentials(request.headers)
    request[CUSTOMER] = customer.number
    return customer


async def create_token(request: web.Request) -> web.Response:
    body = await read_json(request, "auth-request")
    sim = request.app[SIM]
    if sim.saboteur.refuses_good_credentials:  # a wrong password gets this 401 anyway
        raise Problem.unauthorized(WRONG_PASSWORD, scheme="Bearer")
    try:
        token, issued = await sim.issue_token(body["username"], body["password"])
    except Problem:
        password = sim.saboteur.right_password(body["username"], sim.auth)
        if password is None:
            raise
        token, issued = await sim.issue_token(body["username"], password)
    return json_response({"token": token, "expiresAt": format_timestamp(issued.expires_ms)})


async def list_products(request: web.Request) -> web.Response:
    _customer(request, leaks=True)  # every customer sees the same catalog, but only with its own credentials
    query = request.query
    sim = request.app[SIM]
    page, size, since, text = 1, DEFAULT_PAGE_SIZE, None, None
    if query:
        errors: list[Violation] = []
        page, size = paging(query, errors)
        since = timestamp(query, "updatedSince", errors)
        text = query.get("q")
        if text is not None and len(text) > 200:
            errors.append(Violation("/query/q", "must be at most 200 characters"))
        if errors and sim.saboteur.switches.ignore_page_size_limit:
            page, size, errors = clamped_paging(query, errors)
        if errors:
            raise Problem.invalid(errors)
    if sim.saboteur.breaks_product_pages:
        return web.Response(body=sim.saboteur.product_page(sim.catalog, page, size, since, text), content_type=JSON)
    return web.Response(body=sim.catalog.page(page, size, since, text), content_type=JSON)


def _idempotency_key(request: web.Request) -> list[Violation]:
    key = request.headers.get("Idempotency-Key")
    if not key:
        return [
            Violation("/headers/Idempotency-Key", "is required: one unique key per order, reused only to resend it")
        ]
    if len(key) > MAX_KEY or not all(33 <= ord(ch) <= 126 for ch in key):
        return [Violation("/headers/Idempotency-Key", f"must be 1 to {MAX_KEY} visible ASCII characters")]
    return []


async def _order_request(request: web.Request) -> dict[str, Any]:
    """The order body with its Idempotency-Key, valid; 422 (or another problem) otherwise."""
    body: dict[str, Any] = await read_json(request, "order-request", extra=_idempotency_key(request))
    errors = order_request(body)
    if errors and request.app[SIM].saboteur.switches.accept_bad_quantity:
        errors = [e for e in errors if not e.pointer.endswith("/quantity")]
    if errors:
        raise Problem.invalid(errors)
    return body


async def create_order(request: web.Request) -> web.Response:
    customer = _customer(request)
    sim = request.app[SIM]
    try:
        body = await _order_request(request)
    except Problem as problem:
        raise sim.saboteur.bad_input(problem, request.get(BODY), request.headers) from None
    key = request.headers["Idempotency-Key"]
    if sim.saboteur.switches.duplicate_on_replay and sim.orders.is_replay(customer.number, key, body):
        key = sim.saboteur.duplicate_key()
    try:
        order, created = await sim.orders.create(customer.number, key, body)
    except Problem as problem:
        order, created = await _first_order(request, problem, customer.number, key), False
    location = request.app.router["order"].url_for(customerNumber=customer.number, orderId=order["orderId"])
    headers = {"Location": str(location), "Idempotent-Replayed": "false" if created else "true"}
    if sim.saboteur.breaks_created_orders:
        order, headers = sim.saboteur.created(order, created, headers)
    return json_response(order, status=201, headers=headers)


async def _first_order(request: web.Request, problem: Problem, number: str, key: str) -> dict[str, Any]:
    """replayIgnoresBody: the order the key made first, whatever body came now; otherwise ``problem`` stands."""
    sim = request.app[SIM]
    order = None
    if problem.status == 409 and sim.saboteur.switches.replay_ignores_body:
        order = await sim.orders.made_by(number, key)
    if order is None:
        raise problem
    return order


async def list_orders(request: web.Request) -> web.Response:
    customer = _customer(request, leaks=True)
    sim = request.app[SIM]
    query = request.query
    errors: list[Violation] = []
    page, size = paging(query, errors)
    since = timestamp(query, "updatedSince", errors)
    statuses = [s for s in query.get("status", "").split(",") if s]
    if any(s not in STATUSES for s in statuses):
        errors.append(Violation("/query/status", STATUS_RULE))
    if errors and sim.saboteur.switches.lenient_list_parameters:
        page, size, statuses, errors = _lenient_list(query, statuses, errors)
    if errors:
        raise Problem.invalid(errors)
    if sim.saboteur.breaks_order_lists:
        items, total = await sim.saboteur.order_page(sim.orders, customer.number, statuses, since, page, size)
    else:
        items, total = await sim.orders.page(customer.number, statuses, since, page, size)
    return json_response(page_body(items, total, page, size))


def _lenient_list(
    query: MultiMapping[str], statuses: list[str], errors: list[Violation]
) -> tuple[int, int, list[str], list[Violation]]:
    """lenientListParameters: paging clamped, an unknown status ignored; what is still refused."""
    page, size, errors = clamped_paging(query, errors)
    known = [s for s in statuses if s in STATUSES]
    return page, size, known, [e for e in errors if e.pointer != "/query/status"]


async def get_order(request: web.Request) -> web.Response:
    customer = _customer(request)
    order_id = request.match_info["orderId"]
    sim = request.app[SIM]
    order = await sim.orders.get(customer.number, order_id)
    if order is None:
        raise sim.saboteur.unknown_order(Problem.not_found(f"customer {customer.number} has no order with this id"))
    if sim.saboteur.breaks_orders:
        order = await sim.saboteur.order(order, sim.clock.now_ms())
    return json_response(order)


async def list_dispatch_notifications(request: web.Request) -> web.Response:
    customer = _customer(request)
    order_id = request.match_info["orderId"]
    errors: list[Violation] = []
    page, size = paging(request.query, errors)
    if errors:
        raise Problem.invalid(errors)
    sim = request.app[SIM]
    found = await sim.orders.dispatch_notifications(customer.number, order_id, page, size)
    if found is None:
        raise sim.saboteur.unknown_order(Problem.not_found(f"customer {customer.number} has no order with this id"))
    items, total = found
    if sim.saboteur.breaks_dispatch_notifications:
        order = await sim.orders.get(customer.number, order_id)
        items, total = sim.saboteur.dispatch_notifications(items, total, order, page, sim.clock.now_ms())
    return json_response(page_body(items, total, page, size))


async def put_webhook(request: web.Request) -> web.Response:
    customer = _customer(request)
    body = await read_json(request, "webhook-registration")
    if _credentials_or_blanks(body["url"]):
        rule: str | None = "must hold no user name or password, white space or control character"
    else:
        rule = None if _reachable_host(body["url"]) else "the host is not a valid DNS name or address"
    if rule is not None:
        request[BODY_REFUSED] = True  # the journal keeps a refused body's size only
        raise Problem.invalid_field("/url", rule)
    registration = await request.app[SIM].hooks.register(customer.number, body["url"], body["secret"])
    return json_response(registration.public())


async def get_webhook(request: web.Request) -> web.Response:
    customer = _customer(request)
    sim = request.app[SIM]
    registration = sim.hooks.registrations.get(customer.number)
    if registration is None:
        raise Problem.not_found(f"customer {customer.number} has no webhook registered")
    shown = registration.public()
    if sim.saboteur.switches.webhook_shows_secret:
        shown["secret"] = registration.secret
    return json_response(shown)


async def delete_webhook(request: web.Request) -> web.Response:
    customer = _customer(request)
    sim = request.app[SIM]
    if sim.saboteur.switches.delete_keeps_webhook and customer.number in sim.hooks.registrations:
        return web.Response(status=204)  # and the registration stays
    if not await sim.hooks.remove(customer.number):
        raise Problem.not_found(f"customer {customer.number} has no webhook registered")
    return web.Response(status=204)


def _credentials_or_blanks(url: str) -> bool:
    """Whether a webhook URL carries userinfo (it would be shown and logged wherever the URL is) or a blank."""
    authority = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    return "@" in authority or any(c.isspace() or not c.isprintable() for c in url)


def _reachable_host(url: str) -> bool:
    try:
        host = URL(url).host
        return bool(host) and bool(host.encode("idna"))  # type: ignore[union-attr]
    except (ValueError, UnicodeError):
        return False


def setup_api_routes(app: web.Application) -> None:
    base = "/api/v1/customers/{customerNumber}"
    router = app.router
    router.add_post("/api/v1/auth", create_token, name="auth")
    router.add_get(f"{base}/products", list_products, name="products")
    router.add_post(f"{base}/orders", create_order, name="orders.create")
    router.add_get(f"{base}/orders", list_orders, name="orders.list")
    router.add_get(f"{base}/orders/{{orderId}}", get_order, name="order")
    router.add_get(
        f"{base}/orders/{{orderId}}/dispatch-notifications", list_dispatch_notifications, name="dispatch-notifications"
    )
    router.add_put(f"{base}/webhook", put_webhook, name="webhook.put")
    router.add_get(f"{base}/webhook", get_webhook, name="webhook.get")
    router.add_delete(f"{base}/webhook", delete_webhook, name="webhook.delete")
