"""Stock orders: read, edit, remove a line, book and send."""

from __future__ import annotations

from aiohttp import web

from portal.entrypoints import views
from portal.entrypoints.http import body_of, ident, ok
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import ordering, sending


async def get_stock_order(request: web.Request) -> web.Response:
    found = await sending.stock_order(request.app[PORTAL], ident(request, "id"))
    return ok(views.stock_order(found.order, found.intent))


async def edit_stock_order(request: web.Request) -> web.Response:
    b = await body_of(request, "stock-order-change")
    lines = {line["lineNumber"]: line["containers"] for line in b.get("lines", [])}
    order = await ordering.edit_stock_order(
        request.app[PORTAL], ident(request, "id"), lines, b.get("note"), b.get("requestedDeliveryDate")
    )
    return ok(views.stock_order(order))


async def remove_line(request: web.Request) -> web.Response:
    order = await ordering.remove_line(request.app[PORTAL], ident(request, "id"), ident(request, "line"))
    return ok(views.stock_order(order))


async def book(request: web.Request) -> web.Response:
    return ok(views.stock_order(await ordering.book_stock_order(request.app[PORTAL], ident(request, "id"))))


async def send(request: web.Request) -> web.Response:
    """200 and the sent order, or 202 and the order waiting in the outbox for another attempt."""
    sent = await sending.send_stock_order(request.app[PORTAL], ident(request, "id"))
    return ok(views.stock_order(sent.order, sent.intent), 202 if sent.intent else 200)


ROUTES: list[web.RouteDef] = [
    web.get("/api/stock-orders/{id}", get_stock_order, name="stock-order"),
    web.patch("/api/stock-orders/{id}", edit_stock_order, name="stock-order.edit"),
    web.delete("/api/stock-orders/{id}/lines/{line}", remove_line, name="stock-order.line.delete"),
    web.post("/api/stock-orders/{id}/book", book, name="stock-order.book"),
    web.post("/api/stock-orders/{id}/send", send, name="stock-order.send"),
]
