"""Carts: opening the Orderportal, a supplier's products, cart lines, and turning a cart into a stock order."""

from __future__ import annotations

from aiohttp import web

from portal.domain.errors import NotFound
from portal.entrypoints import views
from portal.entrypoints.collector import collector_paused
from portal.entrypoints.http import body_of, ident, ok, query_int
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import ordering

CART = "/api/carts/{supplier}/{warehouse}"


def product(request: web.Request) -> str:
    number = request.match_info["product"]
    if len(number) > 64 or any(ord(ch) < 32 for ch in number):
        raise NotFound("no such product: a product number has 1 to 64 characters and no control character")
    return number


async def open_orderportal(request: web.Request) -> web.Response:
    b = await body_of(request, "open")
    with collector_paused():
        done = await ordering.open_orderportal(request.app[PORTAL], b["supplierId"], b["warehouseId"])
    return ok({"fetched": done.fetched, "total": done.total, "delta": done.delta})


async def supplier_products(request: web.Request) -> web.Response:
    page, size = query_int(request, "page", 1, 10**6), query_int(request, "size", 100, 1000)
    matches, total = await ordering.supplier_products(request.app[PORTAL], ident(request, "id"), page, size)
    return ok({"page": page, "size": size, "total": total, "items": [views.match(m) for m in matches]})


async def get_cart(request: web.Request) -> web.Response:
    supplier_id, warehouse_id = ident(request, "supplier"), ident(request, "warehouse")
    return ok(views.cart(await ordering.get_cart(request.app[PORTAL], supplier_id, warehouse_id)))


async def put_in_cart(request: web.Request) -> web.Response:
    b = await body_of(request, "cart-line")
    cart = await ordering.put_in_cart(
        request.app[PORTAL],
        ident(request, "supplier"),
        ident(request, "warehouse"),
        product(request),
        b["containers"],
    )
    return ok(views.cart(cart))


async def take_out(request: web.Request) -> web.Response:
    supplier_id, warehouse_id = ident(request, "supplier"), ident(request, "warehouse")
    cart = await ordering.take_out_of_cart(request.app[PORTAL], supplier_id, warehouse_id, product(request))
    return ok(views.cart(cart))


async def update_products(request: web.Request) -> web.Response:
    supplier_id, warehouse_id = ident(request, "supplier"), ident(request, "warehouse")
    done = await ordering.update_products(request.app[PORTAL], supplier_id, warehouse_id)
    return ok({"created": done.created, "updated": done.updated, "unchanged": done.unchanged})


async def create_stock_orders(request: web.Request) -> web.Response:
    supplier_id, warehouse_id = ident(request, "supplier"), ident(request, "warehouse")
    order = await ordering.create_stock_orders(request.app[PORTAL], supplier_id, warehouse_id)
    return ok(views.stock_order(order), 201)


ROUTES: list[web.RouteDef] = [
    web.post("/api/orderportal/open", open_orderportal, name="orderportal.open"),
    web.get("/api/suppliers/{id}/products", supplier_products, name="supplier.products"),
    web.get(CART, get_cart, name="cart"),
    web.put(CART + "/lines/{product}", put_in_cart, name="cart.line"),
    web.delete(CART + "/lines/{product}", take_out, name="cart.line.delete"),
    web.post(CART + "/update-products", update_products, name="cart.update-products"),
    web.post(CART + "/create-stock-orders", create_stock_orders, name="cart.create-stock-orders"),
]
