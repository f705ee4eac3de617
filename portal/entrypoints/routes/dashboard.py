"""The live dashboard at /ui: pages rendered on the server from the read side, kept fresh by Server-Sent Events.

A page listens to the hub's events and, when one concerns it, renders itself again and swaps its main part
in (OP.refresh): one renderer, on the server, for the first view and every later one. The actions are the
API's own endpoints, so the dashboard has no write path, and no protection, of its own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from contracts.dashboard import event_stream, page
from portal.domain.model import StockOrder, StockOrderState
from portal.domain.statuses import Status, status_line
from portal.entrypoints import views
from portal.entrypoints.http import ident, query_choice, query_int
from portal.entrypoints.typedefs import HUB, PORTAL
from portal.service_layer import queries

PACKAGE = "portal.entrypoints"
APP_NAME = "Orderportal"
PAGE_SIZE = 50
NAV = (
    ("ui.orders", "Stock orders"),
    ("ui.violations", "Contract violations"),
    ("ui.stock", "Stock levels"),
    ("ui.suppliers", "Suppliers"),
)
T = TypeVar("T")


def _page(request: web.Request, template: str, title: str, current: str, **context: Any) -> web.Response:
    router = request.app.router
    nav = [{"href": router[name].url_for(), "label": label, "current": name == current} for name, label in NAV]
    events = router["ui.events"].url_for()
    return page(PACKAGE, template, app_name=APP_NAME, title=title, nav=nav, events_url=events, **context)


async def _paged(
    request: web.Request, fetch: Callable[..., Awaitable[queries.Page[T]]]
) -> tuple[queries.Page[T], dict[str, Any]]:
    """The page asked for, or else the last one: the newest rows are what a live page is watched for."""
    number = query_int(request, "page", 1, 10**6)
    found = await fetch(page=number, size=PAGE_SIZE)
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    if "page" not in request.query and pages > 1:
        number = pages
        found = await fetch(page=number, size=PAGE_SIZE)
    here = request.rel_url
    return found, {"page": number, "pages": pages, "total": found.total, "href": lambda n: here.update_query(page=n)}


def steps(order: StockOrder) -> list[dict[str, str]]:
    reached = [change.status for change in order.status_history]
    return [{"status": status, "step": step} for status, step in status_line(order.portal_status, reached)]


async def orders(request: web.Request) -> web.Response:
    """Stock orders by state, each with its Orderportal status line."""
    portal = request.app[PORTAL]
    state, status = query_choice(request, "state", StockOrderState), query_choice(request, "status", Status)
    found, paging = await _paged(request, functools.partial(queries.stock_orders, portal, state=state, status=status))
    counts = await queries.stock_order_counts(portal)
    suppliers = {s.id: s.name for s in await queries.suppliers(portal)}
    houses = {h.id: h.name for h in await queries.warehouses(portal)}
    waiting = {row.intent.stock_order_id: row.intent for row in await queries.outbox(portal)}
    here = request.app.router["ui.orders"].url_for()
    rows = [
        {
            "id": order.id,
            "href": request.app.router["ui.order"].url_for(id=str(order.id)),
            "number": order.number,
            "supplier": suppliers.get(order.supplier_id, order.supplier_id),
            "warehouse": houses.get(order.warehouse_id, order.warehouse_id),
            "state": order.state.value,
            "status": order.portal_status,
            "steps": steps(order),
            "lines": len(order.lines),
            "outbox": waiting.get(order.id or 0),
        }
        for order in found.items
    ]
    everything = sum(counts[s] for s in StockOrderState)
    choices = [{"label": "ALL", "href": here, "current": state is status is None, "count": everything}]
    choices += [
        {
            "label": s.value,
            "href": here.with_query({name: s.value}),
            "current": s in (state, status),
            "count": counts[s],
        }
        for name, kinds in (("state", StockOrderState), ("status", Status))
        for s in kinds
    ]
    shown = state or status
    return _page(
        request, "orders.html.j2", "Stock orders", "ui.orders", orders=rows, states=choices, state=shown, paging=paging
    )


async def order(request: web.Request) -> web.Response:
    """One order: its status line and history, outbox entry, lines, dispatch notifications and receipts."""
    portal = request.app[PORTAL]
    found = await queries.stock_order(portal, ident(request, "id"))
    item = found.order
    supplier = await queries.supplier(portal, item.supplier_id)
    house = await queries.warehouse(portal, item.warehouse_id)
    names = {p.id: p.name for p in await queries.products(portal, [line.product_id for line in item.lines])}
    lines = [
        {
            "line_number": line.line_number,
            "product": names.get(line.product_id, ""),
            "supplier_product_number": line.supplier_product_number,
            "containers": line.containers,
            "container_amount": line.container_amount,
            "quantity": line.quantity,
        }
        for line in item.lines
    ]
    return _page(
        request,
        "order.html.j2",
        f"Stock order {item.number}",
        "ui.orders",
        order=item,
        steps=steps(item),
        supplier=supplier.name,
        warehouse=house.name,
        lines=lines,
        intent=found.intent,
        next_attempt=views.outbox_entry(found.intent)["nextAttemptAt"] if found.intent else None,
        withdraw_url=request.app.router["outbox.withdraw"].url_for(id=str(item.id)),
        notifications=found.notifications,
        receipts=found.receipts,
        violations=found.violations,
    )


async def violations(request: web.Request) -> web.Response:
    """Contract violations with their evidence, oldest first."""
    portal = request.app[PORTAL]
    found, paging = await _paged(request, functools.partial(queries.contract_violations, portal))
    suppliers = {s.id: s.name for s in await queries.suppliers(portal)}
    router = request.app.router
    rows = [
        {
            "item": item,
            "supplier": suppliers.get(item.supplier_id, item.supplier_id),
            "order_href": router["ui.order"].url_for(id=str(item.stock_order_id)) if item.stock_order_id else None,
        }
        for item in found.items
    ]
    return _page(request, "violations.html.j2", "Contract violations", "ui.violations", violations=rows, paging=paging)


async def stock(request: web.Request) -> web.Response:
    """Stock levels by warehouse, with each product's number and name."""
    portal = request.app[PORTAL]
    levels = await queries.stock_levels(portal)
    houses = [
        {
            "id": house.id,
            "code": house.code,
            "name": house.name,
            "levels": [
                {"product_id": x.product_id, "number": x.product_number, "name": x.product_name, "quantity": x.quantity}
                for x in levels
                if x.warehouse_id == house.id
            ],
        }
        for house in await queries.warehouses(portal)
    ]
    return _page(request, "stock.html.j2", "Stock levels", "ui.stock", warehouses=houses)


async def suppliers(request: web.Request) -> web.Response:
    """Suppliers and their customer numbers with the coupling state; never a credential."""
    portal = request.app[PORTAL]
    units = {u.id: u.code for u in await queries.org_units(portal)}
    customers = await queries.customer_numbers(portal)
    rows = [
        {
            "item": item,
            "customers": [
                {"item": c, "org_unit": units.get(c.org_unit_id, c.org_unit_id)}
                for c in customers
                if c.supplier_id == item.id
            ],
        }
        for item in await queries.suppliers(portal)
    ]
    return _page(request, "suppliers.html.j2", "Suppliers", "ui.suppliers", suppliers=rows)


def render(kind: str, item: Any) -> dict[str, Any] | None:
    """An event as the pages read it: what changed and which stock order it concerns; never a credential."""
    topic = kind.removesuffix(".removed")
    if topic == "order":
        return {"id": item.id, "stockOrderId": item.id, "state": item.state.value, "status": item.portal_status}
    if topic == "customer":
        return {"id": item.id, "supplierId": item.supplier_id, "state": item.state.value}
    if topic == "supplier":
        return {"id": item.id}
    if topic in ("outbox", "dispatch", "receipt", "violation"):
        return {"id": item.id, "stockOrderId": item.stock_order_id}
    return None


async def events(request: web.Request) -> web.StreamResponse:
    return await event_stream(request, request.app[HUB], render)


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app.router["ui.orders"].url_for())


ROUTES: list[web.RouteDef] = [
    web.get("/ui", orders, name="ui.orders"),
    web.get("/ui/", home, name="ui.home"),
    web.get(r"/ui/orders/{id}", order, name="ui.order"),
    web.get("/ui/violations", violations, name="ui.violations"),
    web.get("/ui/stock", stock, name="ui.stock"),
    web.get("/ui/suppliers", suppliers, name="ui.suppliers"),
    web.get("/ui/events", events, name="ui.events"),
]
