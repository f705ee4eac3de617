"""The portal's HTTP API: one endpoint per user action of the manual, and the webhook receiver."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy.exc import IntegrityError, OperationalError

from contracts.loader import portal_openapi_text
from contracts.signing import SIGNATURE, TIMESTAMP
from portal.adapters import webhooks
from portal.domain.errors import DomainError, InvalidInput, NotFound, Unauthorized
from portal.domain.model import AuthMethod, OrderInterface
from portal.entrypoints import views
from portal.entrypoints.requests import requests
from portal.entrypoints.worker import sync
from portal.service_layer import ordering, receiving, sending, setup, tracking
from portal.service_layer.context import Portal

log = logging.getLogger("portal.api")
hooks_log = logging.getLogger("portal.webhooks")
PORTAL = web.AppKey("portal", Portal)
PROBLEM_BASE = "https://orderportal-harness.dev/problems/"
MAX_BODY = 1024 * 1024  # the largest request body read; a larger one is refused with 413
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, kind: str, detail: str, errors: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": kind.replace("-", " "),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/problem+json")


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals and bad input as problem+json; anything else is logged and a 500 that says so."""
    try:
        return await handler(request)
    except Invalid as exc:
        listed = [{"pointer": e.pointer, "message": e.message} for e in exc.errors]
        return problem(exc.status, exc.kind, str(exc), listed)
    except DomainError as exc:
        named = [{"pointer": exc.field, "message": str(exc)}] if exc.field else None
        return problem(exc.status, exc.kind, str(exc), named)
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "payload-too-large", f"the request body is larger than {MAX_BODY // 1024 // 1024} MiB")
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        refused = problem(405, "method-not-allowed", f"{request.method} is not allowed here; allowed: {allowed}")
        refused.headers["Allow"] = exc.headers["Allow"]  # RFC 9110 requires it on a 405
        return refused
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem(exc.status, "http-error", exc.reason)
    except IntegrityError:
        return problem(409, "conflict", "a concurrent change got there first; reload and try again")
    except OperationalError as exc:
        log.warning("%s %s: the database is busy: %s", request.method, request.path, exc.orig)
        return problem(503, "busy", "the database is busy; try again")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "internal-error", "the portal failed; see its log")


def ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


async def body_of(request: web.Request, schema: str) -> dict[str, Any]:
    """The request's JSON body, valid against ``schema``; 400 or 422 naming each bad field."""
    raw = await request.read()
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(reason=f"the body is not valid JSON: {exc}") from None
    errors = requests.errors(schema, body)
    if errors:
        raise Invalid(errors)
    return _integral(body)  # type: ignore[no-any-return]


def _integral(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer: keep it as one, so no float reaches a quantity."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return [_integral(v) for v in value] if isinstance(value, list) else value


class Invalid(DomainError):
    status = 422
    kind = "validation-error"

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("the request is not valid: " + "; ".join(f"{e.pointer or '/'} {e.message}" for e in errors))
        self.errors = errors


def ident(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit() and len(text) < 10 and int(text) > 0):
        raise NotFound(f"no {name} {text[:20]!r}: ids are numbers")
    return int(text)


def query_int(request: web.Request, name: str, default: int, high: int) -> int:
    text = request.query.get(name) or str(default)
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    if not 1 <= value <= high:
        raise InvalidInput(f"{name} must be from 1 to {high}", field=f"/query/{name}")
    return value


def routes(app: web.Application) -> None:
    r = app.router
    portal = app[PORTAL]

    async def create_org_unit(request: web.Request) -> web.Response:
        body = await body_of(request, "org-unit")
        return ok(views.org_unit(await setup.create_org_unit(portal, body["code"], body["name"])), 201)

    async def create_warehouse(request: web.Request) -> web.Response:
        body = await body_of(request, "warehouse")
        house = await setup.create_warehouse(portal, body["code"], body["name"], body["orgUnitId"])
        return ok(views.warehouse(house), 201)

    async def create_supplier(request: web.Request) -> web.Response:
        b = await body_of(request, "supplier")
        interface = OrderInterface(b["orderInterface"])
        made = await setup.create_supplier(
            portal, b["name"], interface, b.get("baseUrl"), b.get("taxSector", "standard")
        )
        return ok(views.supplier(made), 201)

    async def change_supplier(request: web.Request) -> web.Response:
        b = await body_of(request, "supplier-change")
        changed = await setup.set_order_interface(
            portal, ident(request, "id"), OrderInterface(b["orderInterface"]), b.get("baseUrl")
        )
        return ok(views.supplier(changed))

    async def add_customer_number(request: web.Request) -> web.Response:
        b = await body_of(request, "customer-number")
        customer = await setup.add_customer_number(
            portal,
            b["supplierId"],
            b["orgUnitId"],
            b["number"],
            AuthMethod(b["authMethod"]),
            b.get("username"),
            b.get("password"),
            b.get("apiKey"),
        )
        return ok(views.customer_number(customer), 201)

    async def change_credentials(request: web.Request) -> web.Response:
        b = await body_of(request, "credentials")
        customer = await setup.change_credentials(
            portal,
            ident(request, "id"),
            AuthMethod(b["authMethod"]),
            b.get("username"),
            b.get("password"),
            b.get("apiKey"),
        )
        return ok(views.customer_number(customer))

    async def couple(request: web.Request) -> web.Response:
        return ok(views.customer_number(await setup.couple_customer_number(portal, ident(request, "id"))))

    async def open_orderportal(request: web.Request) -> web.Response:
        b = await body_of(request, "open")
        done = await ordering.open_orderportal(portal, b["supplierId"], b["warehouseId"])
        return ok({"fetched": done.fetched, "total": done.total, "delta": done.delta})

    async def supplier_products(request: web.Request) -> web.Response:
        page, size = query_int(request, "page", 1, 10**6), query_int(request, "size", 100, 1000)
        matches, total = await ordering.supplier_products(portal, ident(request, "id"), page, size)
        return ok({"page": page, "size": size, "total": total, "items": [views.match(m) for m in matches]})

    def product(request: web.Request) -> str:
        number = request.match_info["product"]
        if len(number) > 64 or any(ord(ch) < 32 for ch in number):
            raise NotFound(f"no product {number[:64]!r}")
        return number

    async def put_in_cart(request: web.Request) -> web.Response:
        b = await body_of(request, "cart-line")
        cart = await ordering.put_in_cart(
            portal,
            ident(request, "supplier"),
            ident(request, "warehouse"),
            product(request),
            b["containers"],
        )
        return ok(views.cart(cart))

    async def take_out(request: web.Request) -> web.Response:
        supplier_id, warehouse_id = ident(request, "supplier"), ident(request, "warehouse")
        return ok(views.cart(await ordering.take_out_of_cart(portal, supplier_id, warehouse_id, product(request))))

    async def remove_line(request: web.Request) -> web.Response:
        return ok(views.stock_order(await ordering.remove_line(portal, ident(request, "id"), ident(request, "line"))))

    async def get_customer_number(request: web.Request) -> web.Response:
        return ok(views.customer_number(await setup.get_customer_number(portal, ident(request, "id"))))

    async def violations(request: web.Request) -> web.Response:
        found = await tracking.violations(portal, ident(request, "id"))
        return ok({"items": [views.violation(v) for v in found]})

    async def get_cart(request: web.Request) -> web.Response:
        return ok(views.cart(await ordering.get_cart(portal, ident(request, "supplier"), ident(request, "warehouse"))))

    async def update_products(request: web.Request) -> web.Response:
        done = await ordering.update_products(portal, ident(request, "supplier"), ident(request, "warehouse"))
        return ok({"created": done.created, "updated": done.updated, "unchanged": done.unchanged})

    async def create_stock_orders(request: web.Request) -> web.Response:
        order = await ordering.create_stock_orders(portal, ident(request, "supplier"), ident(request, "warehouse"))
        return ok(views.stock_order(order), 201)

    async def get_stock_order(request: web.Request) -> web.Response:
        found = await sending.stock_order(portal, ident(request, "id"))
        return ok(views.stock_order(found.order, found.intent))

    async def edit_stock_order(request: web.Request) -> web.Response:
        b = await body_of(request, "stock-order-change")
        lines = {line["lineNumber"]: line["containers"] for line in b.get("lines", [])}
        order = await ordering.edit_stock_order(
            portal, ident(request, "id"), lines, b.get("note"), b.get("requestedDeliveryDate")
        )
        return ok(views.stock_order(order))

    async def book(request: web.Request) -> web.Response:
        return ok(views.stock_order(await ordering.book_stock_order(portal, ident(request, "id"))))

    async def send(request: web.Request) -> web.Response:
        """200 and the sent order, or 202 and the order waiting in the outbox for another attempt."""
        sent = await sending.send_stock_order(portal, ident(request, "id"))
        return ok(views.stock_order(sent.order, sent.intent), 202 if sent.intent else 200)

    async def get_outbox(request: web.Request) -> web.Response:
        return ok({"items": [views.outbox_entry(intent) for intent in await sending.outbox(portal)]})

    async def sync_now(request: web.Request) -> web.Response:
        """The worker's round, now: every waiting order attempted, statuses polled, dispatches fetched."""
        return ok(await sync(portal, everything=True))

    async def withdraw_from_outbox(request: web.Request) -> web.Response:
        return ok(views.stock_order(await sending.withdraw(portal, ident(request, "id"))))

    async def deliver_outbox(request: web.Request) -> web.Response:
        """Attempt every waiting order now, without waiting for its next attempt: after an outage is over."""
        return ok(await sending.deliver_due(portal, everything=True))

    async def poll(request: web.Request) -> web.Response:
        order, outcome = await tracking.poll_stock_order(portal, ident(request, "id"))
        return ok({**views.stock_order(order), "poll": {"result": outcome.result, "detail": outcome.detail}})

    async def poll_supplier(request: web.Request) -> web.Response:
        return ok(await tracking.poll_open_orders(portal, ident(request, "id")))

    async def fetch_dispatches(request: web.Request) -> web.Response:
        notes = await receiving.fetch_dispatch_notifications(portal, ident(request, "id"))
        return ok({"items": [views.dispatch_notification(n) for n in notes]})

    async def receipt_from_notification(request: web.Request) -> web.Response:
        b = await body_of(request, "notification-receipt")
        quantities = {x["lineNumber"]: x["quantity"] for x in b["lines"]} if "lines" in b else None
        made = await receiving.receipt_from_notification(portal, ident(request, "id"), quantities)
        return ok(views.receipt(made), 201)

    async def receipt_from_order(request: web.Request) -> web.Response:
        return ok(views.receipt(await receiving.receipt_from_order(portal, ident(request, "id"))), 201)

    async def book_receipt(request: web.Request) -> web.Response:
        return ok(views.receipt(await receiving.book_receipt(portal, ident(request, "id"))))

    async def levels(request: web.Request) -> web.Response:
        found = await receiving.stock_levels(portal, ident(request, "id"))
        return ok({"items": [views.stock_level(level) for level in found]})

    async def webhook(request: web.Request) -> web.Response:
        raw = await request.read()
        signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
        customer_id = ident(request, "id")
        why = webhooks.refused(await tracking.webhook_secret(portal, customer_id), raw, signature, timestamp)
        if why:
            hooks_log.warning("refused a webhook event for customer number %s: %s", customer_id, why)
            raise Unauthorized(why)
        try:
            event = webhooks.event_of(raw)
        except webhooks.NotJson as exc:
            raise InvalidInput(str(exc)) from None
        except webhooks.BrokenEvent as exc:
            await tracking.keep_broken_event(portal, customer_id, exc.listed, raw.decode(errors="replace"))
            raise InvalidInput(f"the event breaks the contract: {exc.listed}") from None
        outcome = await tracking.receive_event(portal, customer_id, event)
        return ok({"result": outcome.result, "detail": outcome.detail})

    document = portal_openapi_text().encode()

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/yaml", charset="utf-8")

    cart = "/api/carts/{supplier}/{warehouse}"
    r.add_get("/api/openapi.yaml", openapi, name="openapi")
    r.add_post("/api/org-units", create_org_unit, name="org-units")
    r.add_post("/api/warehouses", create_warehouse, name="warehouses")
    r.add_post("/api/suppliers", create_supplier, name="suppliers")
    r.add_patch("/api/suppliers/{id}", change_supplier, name="supplier")
    r.add_post("/api/suppliers/{id}/poll", poll_supplier, name="supplier.poll")
    r.add_get("/api/suppliers/{id}/products", supplier_products, name="supplier.products")
    r.add_post("/api/customer-numbers", add_customer_number, name="customer-numbers")
    r.add_post("/api/customer-numbers/{id}/couple", couple, name="customer-number.couple")
    r.add_post("/api/orderportal/open", open_orderportal, name="orderportal.open")
    r.add_get(cart, get_cart, name="cart")
    r.add_put(cart + "/lines/{product}", put_in_cart, name="cart.line")
    r.add_delete(cart + "/lines/{product}", take_out, name="cart.line.delete")
    r.add_delete("/api/stock-orders/{id}/lines/{line}", remove_line, name="stock-order.line.delete")
    r.add_get("/api/customer-numbers/{id}", get_customer_number, name="customer-number")
    r.add_patch("/api/customer-numbers/{id}", change_credentials, name="customer-number.credentials")
    r.add_get("/api/suppliers/{id}/contract-violations", violations, name="supplier.violations")
    r.add_post(cart + "/update-products", update_products, name="cart.update-products")
    r.add_post(cart + "/create-stock-orders", create_stock_orders, name="cart.create-stock-orders")
    r.add_get("/api/stock-orders/{id}", get_stock_order, name="stock-order")
    r.add_patch("/api/stock-orders/{id}", edit_stock_order, name="stock-order.edit")
    r.add_post("/api/stock-orders/{id}/book", book, name="stock-order.book")
    r.add_post("/api/stock-orders/{id}/send", send, name="stock-order.send")
    r.add_get("/api/outbox", get_outbox, name="outbox")
    r.add_post("/api/outbox/deliver", deliver_outbox, name="outbox.deliver")
    r.add_delete(r"/api/outbox/{id:\d+}", withdraw_from_outbox, name="outbox.withdraw")  # not /deliver
    r.add_post("/api/sync", sync_now, name="sync")
    r.add_post("/api/stock-orders/{id}/poll", poll, name="stock-order.poll")
    r.add_post("/api/stock-orders/{id}/dispatch-notifications", fetch_dispatches, name="stock-order.dispatches")
    r.add_post("/api/stock-orders/{id}/receipt", receipt_from_order, name="stock-order.receipt")
    r.add_post("/api/dispatch-notifications/{id}/receipt", receipt_from_notification, name="dispatch.receipt")
    r.add_post("/api/stock-receipts/{id}/book", book_receipt, name="receipt.book")
    r.add_get("/api/warehouses/{id}/stock-levels", levels, name="warehouse.stock-levels")
    r.add_post("/api/webhooks/{id}", webhook, name="webhook")


def create_app(portal: Portal) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[problems])
    app[PORTAL] = portal
    routes(app)
    return app
