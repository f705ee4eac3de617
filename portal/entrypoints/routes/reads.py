"""Reading what the portal keeps: a list and a read for everything it creates, and the health check.

Lists that grow with use come a page at a time (``page`` from 1, ``size`` up to 1000), as the
supplier's products do; the set-up lists are short and come whole.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.domain.model import StockOrderState
from portal.domain.setup import Coupling
from portal.domain.statuses import Status
from portal.entrypoints import views
from portal.entrypoints.http import ident, ok, query_choice, query_id, query_int
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import queries
from portal.service_layer.queries import MAX_PAGE_SIZE, PAGE_SIZE


def paging(request: web.Request) -> dict[str, int]:
    return {"page": query_int(request, "page", 1, 10**6), "size": query_int(request, "size", PAGE_SIZE, MAX_PAGE_SIZE)}


def items(found: list[Any], view: Any) -> web.Response:
    return ok({"items": [view(x) for x in found]})


async def healthz(request: web.Request) -> web.Response:
    """Cheap on purpose: the process answers; the database is not asked."""
    return ok({"status": "ok"})


async def org_units(request: web.Request) -> web.Response:
    return items(await queries.org_units(request.app[PORTAL]), views.org_unit)


async def org_unit(request: web.Request) -> web.Response:
    return ok(views.org_unit(await queries.org_unit(request.app[PORTAL], ident(request, "id"))))


async def warehouses(request: web.Request) -> web.Response:
    found = await queries.warehouses(request.app[PORTAL], query_id(request, "orgUnitId"))
    return items(found, views.warehouse)


async def warehouse(request: web.Request) -> web.Response:
    return ok(views.warehouse(await queries.warehouse(request.app[PORTAL], ident(request, "id"))))


async def suppliers(request: web.Request) -> web.Response:
    return items(await queries.suppliers(request.app[PORTAL]), views.supplier)


async def supplier(request: web.Request) -> web.Response:
    return ok(views.supplier(await queries.supplier(request.app[PORTAL], ident(request, "id"))))


async def customer_numbers(request: web.Request) -> web.Response:
    found = await queries.customer_numbers(
        request.app[PORTAL],
        query_id(request, "supplierId"),
        query_id(request, "orgUnitId"),
        query_choice(request, "state", Coupling),
    )
    return items(found, views.customer_number)


async def carts(request: web.Request) -> web.Response:
    found = await queries.carts(request.app[PORTAL], query_id(request, "supplierId"), query_id(request, "warehouseId"))
    return items(found, views.cart)


async def stock_orders(request: web.Request) -> web.Response:
    found = await queries.stock_orders(
        request.app[PORTAL],
        state=query_choice(request, "state", StockOrderState),
        status=query_choice(request, "status", Status),
        supplier_id=query_id(request, "supplierId"),
        warehouse_id=query_id(request, "warehouseId"),
        **paging(request),
    )
    intents = await queries.waiting(request.app[PORTAL], [order.id or 0 for order in found.items])
    return ok(views.page(found, lambda order: views.stock_order(order, intents.get(order.id or 0))))


async def dispatch_notifications(request: web.Request) -> web.Response:
    stock_order_id = query_id(request, "stockOrderId")
    found = await queries.dispatch_notifications(request.app[PORTAL], stock_order_id, **paging(request))
    return ok(views.page(found, views.dispatch_notification))


async def dispatch_notification(request: web.Request) -> web.Response:
    found = await queries.dispatch_notification(request.app[PORTAL], ident(request, "id"))
    return ok(views.dispatch_notification(found))


async def stock_receipts(request: web.Request) -> web.Response:
    found = await queries.stock_receipts(
        request.app[PORTAL], query_id(request, "stockOrderId"), query_id(request, "warehouseId"), **paging(request)
    )
    return ok(views.page(found, views.receipt))


async def stock_receipt(request: web.Request) -> web.Response:
    return ok(views.receipt(await queries.stock_receipt(request.app[PORTAL], ident(request, "id"))))


async def contract_violations(request: web.Request) -> web.Response:
    found = await queries.contract_violations(
        request.app[PORTAL], query_id(request, "supplierId"), query_id(request, "stockOrderId"), **paging(request)
    )
    return ok(views.page(found, views.violation))


ROUTES: list[web.RouteDef] = [
    web.get("/healthz", healthz, name="healthz"),
    web.get("/api/org-units", org_units, name="org-units.list"),
    web.get("/api/org-units/{id}", org_unit, name="org-unit.get"),
    web.get("/api/warehouses", warehouses, name="warehouses.list"),
    web.get("/api/warehouses/{id}", warehouse, name="warehouse.get"),
    web.get("/api/suppliers", suppliers, name="suppliers.list"),
    web.get("/api/suppliers/{id}", supplier, name="supplier.get"),
    web.get("/api/customer-numbers", customer_numbers, name="customer-numbers.list"),
    web.get("/api/carts", carts, name="carts.list"),
    web.get("/api/stock-orders", stock_orders, name="stock-orders.list"),
    web.get("/api/dispatch-notifications", dispatch_notifications, name="dispatch-notifications.list"),
    web.get("/api/dispatch-notifications/{id}", dispatch_notification, name="dispatch-notification.get"),
    web.get("/api/stock-receipts", stock_receipts, name="stock-receipts.list"),
    web.get("/api/stock-receipts/{id}", stock_receipt, name="stock-receipt.get"),
    web.get("/api/contract-violations", contract_violations, name="contract-violations.list"),
]
