"""`orderportal demo`: the whole manual, one line a step, against an in-process simulator."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from portal.bootstrap import PortalServer
from supplier_sim import SimConfig, SimServer


class DemoFailed(RuntimeError):
    """A step of the demo got an error answer."""


class Walk:
    """Calls the portal's API as a user would, failing loudly on any error answer."""

    def __init__(self, session: aiohttp.ClientSession, portal: str, sim: SimServer) -> None:
        self.session, self.portal, self.sim = session, portal, sim

    async def __call__(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.portal + path, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise DemoFailed(f"{method} {path} answered {response.status}: {answer.get('detail')}")
            return answer

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        return await self.sim.admin(self.session, method, path, json=body)


async def run(echo: Callable[[str], None], seed: int = 1) -> None:
    with tempfile.TemporaryDirectory(prefix="orderportal-demo-") as tmp:
        db = f"sqlite+aiosqlite:///{Path(tmp) / 'portal.db'}"
        async with (
            SimServer(SimConfig(seed=seed, clock="virtual")) as sim,
            PortalServer(db_url=db, sync_interval_s=None) as portal,
            aiohttp.ClientSession() as session,
        ):
            await walk(Walk(session, portal.url, sim), sim, portal, echo)
            sim.check()


async def walk(call: Walk, sim: SimServer, portal: PortalServer, echo: Callable[[str], None]) -> None:
    echo(f"1. supplier simulator on {sim.url} (virtual clock), portal on {portal.url}")
    unit = await call("POST", "/api/org-units", {"code": "STORE-1", "name": "Main Street store"})
    house = await call("POST", "/api/warehouses", {"code": "W1", "name": "Main warehouse", "orgUnitId": unit["id"]})
    supplier = await call("POST", "/api/suppliers", {"name": "Demo Supplier", "orderInterface": "PRECASTED"})
    supplier = await call(
        "PATCH", f"/api/suppliers/{supplier['id']}", {"orderInterface": "ORDERPORTAL", "baseUrl": sim.url}
    )
    echo(f"2. org unit {unit['code']}, warehouse {house['code']}, supplier {supplier['name']} switched to ORDERPORTAL")
    login = sim.sim.profile.customer("10001")
    assert login is not None
    customer = await call(
        "POST",
        "/api/customer-numbers",
        {
            "supplierId": supplier["id"],
            "orgUnitId": unit["id"],
            "number": login.number,
            "authMethod": "basic",
            "username": login.username,
            "password": login.password,
        },
    )
    customer = await call("POST", f"/api/customer-numbers/{customer['id']}/couple")
    echo(f"3. customer number {customer['number']} ({customer['authMethod']}): {customer['state']}, webhook registered")
    opened = await call("POST", "/api/orderportal/open", {"supplierId": supplier["id"], "warehouseId": house["id"]})
    echo(f"4. Orderportal opened: {opened['fetched']} supplier products imported")
    listed = await call("GET", f"/api/suppliers/{supplier['id']}/products?size=20")
    picks = [p for p in listed["items"] if p["active"]][:4]
    cart = f"/api/carts/{supplier['id']}/{house['id']}"
    for number, product in enumerate(picks[:3], start=1):
        await call("PUT", f"{cart}/lines/{product['productNumber']}", {"containers": number + 1})
    lines = ", ".join(f"{n + 1} x {p['containerAmount']} of {p['productNumber']}" for n, p in enumerate(picks[:3], 1))
    echo(f"5. cart filled by containers: {lines}")
    updated = await call("POST", f"{cart}/update-products")
    counts = ", ".join(f"{updated[k]} {k}" for k in ("created", "updated", "unchanged"))
    echo(f"6. Update Products: {counts}")
    order = await call("POST", f"{cart}/create-stock-orders")
    echo(f"7. stock order {order['number']} created with {len(order['lines'])} lines")
    await call("PUT", f"{cart}/lines/{picks[0]['productNumber']}", {"containers": 1})
    merged = await call("POST", f"{cart}/create-stock-orders")
    now = merged["lines"][0]["containers"]
    echo(f"8. the cart went into the same unbooked order {merged['number']}: line 1 now {now} containers")
    edited = await call(
        "PATCH",
        f"/api/stock-orders/{order['id']}",
        {"lines": [{"lineNumber": 2, "containers": 5}], "note": "deliver to ramp 2"},
    )
    booked = await call("POST", f"/api/stock-orders/{order['id']}/book")
    sent = await call("POST", f"/api/stock-orders/{order['id']}/send")
    at_supplier = sent["orderportal"]
    state = f"{booked['state']}, {sent['state']}"
    line2 = edited["lines"][1]["containers"]
    supplier_order = f"supplier order {at_supplier['supplierOrderId']} is {at_supplier['status']}"
    echo(f"9. edited (line 2: {line2} containers), {state}: {supplier_order}")
    await call("PUT", f"{cart}/lines/{picks[3]['productNumber']}", {"containers": 2})
    await call("POST", f"{cart}/update-products")
    second = await call("POST", f"{cart}/create-stock-orders")
    await call("POST", f"/api/stock-orders/{second['id']}/book")
    second = await call("POST", f"/api/stock-orders/{second['id']}/send")
    await call.admin("POST", "catalog/changes", {"kind": "withdraw", "productNumber": picks[3]["productNumber"]})
    echo(f"10. second order {second['number']} sent; the supplier then withdraws {picks[3]['productNumber']}")
    clock = await call.admin("POST", "clock/advance", {"by": "2h"})
    polled = await call("POST", f"/api/suppliers/{supplier['id']}/poll")
    first = await call("GET", f"/api/stock-orders/{order['id']}")
    rejected = await call("GET", f"/api/stock-orders/{second['id']}")
    path = " -> ".join(h["status"] for h in first["orderportal"]["history"])
    echo(f"11. clock at {clock['now']}; polling applied {polled['applied']} more; {first['number']}: {path}")
    why = rejected["orderportal"]
    echo(f"12. {rejected['number']}: {why['status']} ({why['rejectionReason']}: {why['history'][-1]['message']})")
    notes = await call("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications")
    note = notes["items"][0]
    units = sum(x["quantity"] for x in note["lines"])
    echo(f"13. dispatch notification {note['notificationId']} by {note['carrier']}: {units} units")
    receipt = await call("POST", f"/api/dispatch-notifications/{note['id']}/receipt", {})
    receipt = await call("POST", f"/api/stock-receipts/{receipt['id']}/book")
    echo(f"14. stock receipt {receipt['id']} from the dispatch notification: {receipt['state']}")
    levels = await call("GET", f"/api/warehouses/{house['id']}/stock-levels")
    echo(
        "15. stock levels of "
        + house["code"]
        + ": "
        + ", ".join(f"product {x['productId']}: {x['quantity']}" for x in levels["items"])
    )
