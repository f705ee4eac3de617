"""What each scenario step does: portal actions over its API, clock and admin moves, and expectations."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from contracts.redaction import redact_json
from contracts.signing import signed_headers
from portal.bootstrap import PortalServer
from portal.domain.setup import CustomerNumber
from supplier_sim import SimServer


class StepFailed(Exception):
    """A step's expectation did not hold: what was expected, what was found, and the exchange that shows it."""

    def __init__(self, expected: str, found: str, evidence: list[dict[str, Any]]) -> None:
        super().__init__(f"expected {expected}, found {found}")
        self.expected, self.found, self.evidence = expected, found, evidence


@dataclass
class Shop:
    unit: dict[str, Any]
    house: dict[str, Any]
    supplier: dict[str, Any]
    customer: dict[str, Any]
    products: list[dict[str, Any]] = field(default_factory=list)


class Stage:
    """One scenario's world: a simulator, a portal, the shops coupled so far and the orders named so far."""

    def __init__(self, sim: SimServer, portal: PortalServer, session: aiohttp.ClientSession) -> None:
        self.sim, self.portal, self.session = sim, portal, session
        self.shops: dict[str, Shop] = {}
        self.orders: dict[str, int] = {}
        self.exchanges: list[dict[str, Any]] = []

    async def call(
        self, method: str, path: str, body: Any = None, expect: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """A portal call; with ``expect`` naming a status it must fail so, otherwise it must succeed."""
        async with self.session.request(method, self.portal.url + path, json=body, **kwargs) as response:
            raw = await response.read()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = raw[:500].decode("utf-8", "replace")
        # Recorded with secrets blanked: a failed step's evidence goes into reports.
        self.exchanges.append(
            {
                "request": {"method": method, "path": path, "body": redact_json(body)},
                "status": response.status,
                "answer": redact_json(answer),
            }
        )
        wanted = (expect or {}).get("status")
        if wanted is not None:
            detail = str(answer.get("detail", "")) if isinstance(answer, dict) else ""
            if response.status != wanted or (expect or {}).get("detail", "") not in detail:
                self.fail(
                    f"{wanted} with {(expect or {}).get('detail', 'any detail')!r}", f"{response.status}: {detail}"
                )
            return None
        if response.status >= 400:
            self.fail(
                "a successful answer",
                f"{response.status}: {answer.get('detail') if isinstance(answer, dict) else answer}",
            )
        return answer

    def fail(self, expected: str, found: str) -> None:
        raise StepFailed(expected, found, self.exchanges[-3:])

    def check(self, condition: bool, expected: str, found: Any) -> None:
        if not condition:
            self.fail(expected, str(found))

    def shop(self, args: dict[str, Any]) -> Shop:
        name = args.get("shop", "main")
        if name not in self.shops:
            self.fail(f"a coupled shop {name!r}", f"shops {sorted(self.shops)}")
        return self.shops[name]

    def order(self, args: dict[str, Any]) -> int:
        if args["order"] not in self.orders:
            self.fail(f"an order named {args['order']!r}", f"orders {sorted(self.orders)}")
        return self.orders[args["order"]]

    def product_number(self, shop: Shop, product: int | str) -> str:
        if isinstance(product, str):
            return product
        active = [p for p in shop.products if p["active"]]
        self.check(product < len(active), f"an active product number {product}", f"{len(active)} active products")
        return str(active[product]["productNumber"])

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        return await self.sim.admin(self.session, method, path, json=body)

    async def sim_order_id(self, args: dict[str, Any]) -> str:
        order = await self.call("GET", f"/api/stock-orders/{self.order(args)}")
        supplier_id = order["orderportal"]["supplierOrderId"]
        self.check(supplier_id is not None, "a sent order", order["state"])
        return str(supplier_id)


async def couple(stage: Stage, args: dict[str, Any]) -> None:
    name = args.get("shop", "main")
    login = stage.sim.sim.profile.customer(args["customer"])
    code = f"{name.upper()}-{args['customer']}"
    unit = await stage.call("POST", "/api/org-units", {"code": code, "name": f"Store {name}"})
    house = await stage.call(
        "POST", "/api/warehouses", {"code": f"W-{code}", "name": f"Warehouse {name}", "orgUnitId": unit["id"]}
    )
    interface = args.get("interface", "ORDERPORTAL")
    supplier = await stage.call(
        "POST",
        "/api/suppliers",
        {"name": f"Supplier for {code}", "orderInterface": interface, "baseUrl": stage.sim.url},
    )
    body = {
        "supplierId": supplier["id"],
        "orgUnitId": unit["id"],
        "number": args["customer"],
        "authMethod": login.auth if login else "basic",
    }
    if login and login.auth == "api-key":
        body["apiKey"] = login.api_key
    else:
        body |= {
            "username": login.username if login else "nobody",
            "password": args.get("password") or (login.password if login else "x"),
        }
    customer = await stage.call("POST", "/api/customer-numbers", body)
    coupled = await stage.call("POST", f"/api/customer-numbers/{customer['id']}/couple", expect=args.get("expect"))
    stage.shops[name] = Shop(unit, house, supplier, coupled or customer)


async def open_portal(stage: Stage, args: dict[str, Any]) -> None:
    shop = stage.shop(args)
    expect = args.get("expect", {})
    body = {"supplierId": shop.supplier["id"], "warehouseId": shop.house["id"]}
    opened = await stage.call("POST", "/api/orderportal/open", body, expect=expect if "status" in expect else None)
    if opened is None:
        return
    for key in ("fetched", "delta"):
        if key in expect:
            stage.check(opened[key] == expect[key], f"{key} {expect[key]}", opened[key])
    shop.products = (await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/products?size=1000"))["items"]


def cart_path(shop: Shop) -> str:
    return f"/api/carts/{shop.supplier['id']}/{shop.house['id']}"


async def cart(stage: Stage, args: dict[str, Any]) -> None:
    shop = stage.shop(args)
    for line in args["lines"]:
        number = stage.product_number(shop, line["product"])
        await stage.call(
            "PUT", f"{cart_path(shop)}/lines/{number}", {"containers": line["containers"]}, expect=args.get("expect")
        )


async def update_products(stage: Stage, args: dict[str, Any]) -> None:
    counts = await stage.call("POST", f"{cart_path(stage.shop(args))}/update-products")
    for key, wanted in args.get("expect", {}).items():
        stage.check(counts[key] == wanted, f"{wanted} {key}", counts)


async def create(stage: Stage, args: dict[str, Any]) -> None:
    expect = args.get("expect", {})
    order = await stage.call(
        "POST", f"{cart_path(stage.shop(args))}/create-stock-orders", expect=expect if "status" in expect else None
    )
    if order is None:
        return
    if "same" in expect:
        stage.check(
            order["id"] == stage.orders.get(expect["same"]), f"the same order as {expect['same']!r}", order["number"]
        )
    if "lines" in expect:
        stage.check(len(order["lines"]) == expect["lines"], f"{expect['lines']} lines", len(order["lines"]))
    if "as" in args:
        stage.orders[args["as"]] = order["id"]


async def edit(stage: Stage, args: dict[str, Any]) -> None:
    body = {k: v for k, v in args.items() if k in ("lines", "note")}
    await stage.call("PATCH", f"/api/stock-orders/{stage.order(args)}", body, expect=args.get("expect"))


async def book(stage: Stage, args: dict[str, Any]) -> None:
    await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/book", expect=args.get("expect"))


async def send(stage: Stage, args: dict[str, Any]) -> None:
    await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/send", expect=args.get("expect"))


async def advance(stage: Stage, by: str) -> None:
    await stage.admin("POST", "clock/advance", {"by": by})


async def poll(stage: Stage, args: dict[str, Any]) -> None:
    if "order" in args:
        await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/poll", expect=args.get("expect"))
    else:
        await stage.call("POST", f"/api/suppliers/{stage.shop(args).supplier['id']}/poll", expect=args.get("expect"))


async def admin(stage: Stage, args: dict[str, Any]) -> None:
    if "catalog" in args:
        change = dict(args["catalog"])
        change["productNumber"] = stage.product_number(stage.shop({}), change.pop("product"))
        await stage.admin("POST", "catalog/changes", change)
    if "transition" in args:
        move = args["transition"]
        body = {k: v for k, v in move.items() if k in ("status", "reasonCode")}
        await stage.admin("POST", f"orders/{await stage.sim_order_id(move)}/transition", body)
    if "dispatch" in args:
        body = {k: v for k, v in args["dispatch"].items() if k == "lines"}
        await stage.admin("POST", f"orders/{await stage.sim_order_id(args['dispatch'])}/dispatch", body)
    if args.get("expire_tokens"):
        stage.sim.sim.auth.tokens.clear()  # as a supplier restart would: every token issued so far is unknown


async def dispatch(stage: Stage, args: dict[str, Any]) -> None:
    expect = args.get("expect", {})
    notes = await stage.call(
        "POST",
        f"/api/stock-orders/{stage.order(args)}/dispatch-notifications",
        expect=expect if "status" in expect else None,
    )
    if notes is not None and "notifications" in expect:
        stage.check(
            len(notes["items"]) == expect["notifications"],
            f"{expect['notifications']} notifications",
            len(notes["items"]),
        )


async def receive(stage: Stage, args: dict[str, Any]) -> None:
    order_id = stage.order(args)
    if args.get("from", "notification") == "order":
        receipt = await stage.call("POST", f"/api/stock-orders/{order_id}/receipt", expect=args.get("expect"))
    else:
        notes = (await stage.call("POST", f"/api/stock-orders/{order_id}/dispatch-notifications"))["items"]
        index = args.get("index", 0)
        stage.check(index < len(notes), f"a dispatch notification number {index}", f"{len(notes)} notifications")
        receipt = await stage.call(
            "POST", f"/api/dispatch-notifications/{notes[index]['id']}/receipt", {}, expect=args.get("expect")
        )
    if receipt is not None and args.get("book", True):
        await stage.call("POST", f"/api/stock-receipts/{receipt['id']}/book")


async def webhook(stage: Stage, args: dict[str, Any]) -> None:
    """Deliver an event as the supplier would, signed with the secret it was given."""
    shop = stage.shop(args)
    async with stage.portal.portal.uow() as uow:
        secret = (await uow.get(CustomerNumber, shop.customer["id"])).webhook_secret or ""
    data = {
        "orderId": await stage.sim_order_id(args),
        "orderNumber": "x",
        "previousStatus": args["previous"],
        "status": args["status"],
        "at": "2026-01-05T08:30:00.000Z",
    }
    if "reasonCode" in args:
        data["reasonCode"] = args["reasonCode"]
    raw = json.dumps(
        {"eventId": args["eventId"], "type": "order.status_changed", "occurredAt": data["at"], "data": data}
    ).encode()
    headers = {**signed_headers(secret, raw, int(time.time())), "Content-Type": "application/json"}
    outcome = await stage.call("POST", f"/api/webhooks/{shop.customer['id']}", data=raw, headers=headers)
    wanted = args.get("expect", {}).get("result")
    if wanted:
        stage.check(outcome["result"] == wanted, f"the event {wanted}", outcome)


async def expect_order(stage: Stage, args: dict[str, Any]) -> None:
    order = await stage.call("GET", f"/api/stock-orders/{stage.order(args)}")
    seen = order["orderportal"]
    checks = {
        "state": order["state"],
        "status": seen["status"],
        "reason": seen["rejectionReason"],
        "history": [h["status"] for h in seen["history"]],
        "lines": len(order["lines"]),
        "containers": [line["containers"] for line in order["lines"]],
    }
    for key, found in checks.items():
        if key in args:
            stage.check(found == args[key], f"{key} {args[key]}", found)


async def expect_stock(stage: Stage, args: dict[str, Any]) -> None:
    shop = stage.shop(args)
    number = stage.product_number(shop, args["product"])
    listed = await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/products?size=1000")
    match = next((p["match"] for p in listed["items"] if p["productNumber"] == number), None)
    levels = (await stage.call("GET", f"/api/warehouses/{shop.house['id']}/stock-levels"))["items"]
    quantity = next((x["quantity"] for x in levels if match and x["productId"] == match["productId"]), 0)
    stage.check(quantity == args["quantity"], f"{args['quantity']} of {number} in stock", quantity)


async def expect_wire(stage: Stage, args: dict[str, Any]) -> None:
    """What the supplier saw, from its request journal."""
    items = (await stage.admin("GET", "journal", None))["items"]
    found = [
        e
        for e in items
        if e["method"] == args["method"] and args["path"] in e["path"] and args.get("query", "") in e["query"]
    ]
    if "count" in args:
        stage.check(
            len(found) == args["count"], f"{args['count']} {args['method']} {args['path']} at the supplier", len(found)
        )


async def expect_violations(stage: Stage, args: dict[str, Any]) -> None:
    shop = stage.shop({})
    items = (await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"]
    stage.check(len(items) == args["count"], f"{args['count']} contract violations", [v["detail"] for v in items])
    if "contains" in args:
        stage.check(
            any(args["contains"] in v["detail"] for v in items),
            f"a violation saying {args['contains']!r}",
            [v["detail"] for v in items],
        )


async def expect_catalog(stage: Stage, args: dict[str, Any]) -> None:
    shop = stage.shop({})
    number = stage.product_number(shop, args["product"])
    listed = await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/products?size=1000")
    found = next((p for p in listed["items"] if p["productNumber"] == number), None)
    stage.check(found is not None, f"product {number} in the list", None)
    assert found is not None
    if "differences" in args:
        stage.check(
            found["differences"] == args["differences"], f"differences {args['differences']}", found["differences"]
        )


ACTIONS = {
    "couple": couple,
    "open": open_portal,
    "cart": cart,
    "update_products": update_products,
    "create": create,
    "edit": edit,
    "book": book,
    "send": send,
    "advance": advance,
    "poll": poll,
    "admin": admin,
    "dispatch": dispatch,
    "receive": receive,
    "webhook": webhook,
    "expect_order": expect_order,
    "expect_stock": expect_stock,
    "expect_wire": expect_wire,
    "expect_violations": expect_violations,
    "expect_catalog": expect_catalog,
}
