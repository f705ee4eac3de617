"""Receiving: dispatch notifications, stock receipts and their booking, and the stock levels they raise."""

from __future__ import annotations

from aiohttp import web

from portal.entrypoints import views
from portal.entrypoints.http import body_of, ident, ok
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import queries, receiving


async def fetch_dispatches(request: web.Request) -> web.Response:
    notes = await receiving.fetch_dispatch_notifications(request.app[PORTAL], ident(request, "id"))
    return ok({"items": [views.dispatch_notification(n) for n in notes]})


async def receipt_from_notification(request: web.Request) -> web.Response:
    b = await body_of(request, "notification-receipt")
    quantities = {x["lineNumber"]: x["quantity"] for x in b["lines"]} if "lines" in b else None
    made = await receiving.receipt_from_notification(request.app[PORTAL], ident(request, "id"), quantities)
    return ok(views.receipt(made), 201)


async def receipt_from_order(request: web.Request) -> web.Response:
    return ok(views.receipt(await receiving.receipt_from_order(request.app[PORTAL], ident(request, "id"))), 201)


async def book_receipt(request: web.Request) -> web.Response:
    return ok(views.receipt(await receiving.book_receipt(request.app[PORTAL], ident(request, "id"))))


async def levels(request: web.Request) -> web.Response:
    found = await queries.stock_levels(request.app[PORTAL], ident(request, "id"))
    return ok({"items": [views.stock_level(level) for level in found]})


ROUTES: list[web.RouteDef] = [
    web.post("/api/stock-orders/{id}/dispatch-notifications", fetch_dispatches, name="stock-order.dispatches"),
    web.post("/api/stock-orders/{id}/receipt", receipt_from_order, name="stock-order.receipt"),
    web.post("/api/dispatch-notifications/{id}/receipt", receipt_from_notification, name="dispatch.receipt"),
    web.post("/api/stock-receipts/{id}/book", book_receipt, name="receipt.book"),
    web.get("/api/warehouses/{id}/stock-levels", levels, name="warehouse.stock-levels"),
]
