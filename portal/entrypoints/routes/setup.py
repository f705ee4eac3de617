"""Set-up: org units, warehouses, suppliers, and customer numbers with their coupling."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.domain.setup import AuthMethod, Credentials, OrderInterface
from portal.entrypoints import views
from portal.entrypoints.http import body_of, ident, ok
from portal.entrypoints.typedefs import PORTAL
from portal.service_layer import setup


async def create_org_unit(request: web.Request) -> web.Response:
    body = await body_of(request, "org-unit")
    return ok(views.org_unit(await setup.create_org_unit(request.app[PORTAL], body["code"], body["name"])), 201)


async def create_warehouse(request: web.Request) -> web.Response:
    body = await body_of(request, "warehouse")
    house = await setup.create_warehouse(request.app[PORTAL], body["code"], body["name"], body["orgUnitId"])
    return ok(views.warehouse(house), 201)


async def create_supplier(request: web.Request) -> web.Response:
    b = await body_of(request, "supplier")
    interface = OrderInterface(b["orderInterface"])
    made = await setup.create_supplier(
        request.app[PORTAL], b["name"], interface, b.get("baseUrl"), b.get("taxSector", "standard")
    )
    return ok(views.supplier(made), 201)


async def change_supplier(request: web.Request) -> web.Response:
    b = await body_of(request, "supplier-change")
    changed = await setup.set_order_interface(
        request.app[PORTAL], ident(request, "id"), OrderInterface(b["orderInterface"]), b.get("baseUrl")
    )
    return ok(views.supplier(changed))


def credentials_of(body: dict[str, Any]) -> Credentials:
    return Credentials(AuthMethod(body["authMethod"]), body.get("username"), body.get("password"), body.get("apiKey"))


async def add_customer_number(request: web.Request) -> web.Response:
    b = await body_of(request, "customer-number")
    customer = await setup.add_customer_number(
        request.app[PORTAL],
        b["supplierId"],
        b["orgUnitId"],
        b["number"],
        credentials_of(b),
    )
    return ok(views.customer_number(customer), 201)


async def get_customer_number(request: web.Request) -> web.Response:
    return ok(views.customer_number(await setup.get_customer_number(request.app[PORTAL], ident(request, "id"))))


async def change_credentials(request: web.Request) -> web.Response:
    b = await body_of(request, "credentials")
    customer = await setup.change_credentials(request.app[PORTAL], ident(request, "id"), credentials_of(b))
    return ok(views.customer_number(customer))


async def couple(request: web.Request) -> web.Response:
    return ok(views.customer_number(await setup.couple_customer_number(request.app[PORTAL], ident(request, "id"))))


ROUTES: list[web.RouteDef] = [
    web.post("/api/org-units", create_org_unit, name="org-units"),
    web.post("/api/warehouses", create_warehouse, name="warehouses"),
    web.post("/api/suppliers", create_supplier, name="suppliers"),
    web.patch("/api/suppliers/{id}", change_supplier, name="supplier"),
    web.post("/api/customer-numbers", add_customer_number, name="customer-numbers"),
    web.get("/api/customer-numbers/{id}", get_customer_number, name="customer-number"),
    web.patch("/api/customer-numbers/{id}", change_credentials, name="customer-number.credentials"),
    web.post("/api/customer-numbers/{id}/couple", couple, name="customer-number.couple"),
]
