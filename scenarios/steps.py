"""What each scenario step does: portal actions over its API, clock and admin moves, and expectations."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from contracts.redaction import redact_json
from contracts.signing import signed_headers
from portal.state import PortalState
from scenarios.drivers import Answer, ApiError, Login, PortalClient, ShopNames, SimAdmin, set_up_shop


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


def evidence(answer: Answer) -> dict[str, Any]:
    """An exchange with its secrets blanked: a failed step's evidence goes into reports."""
    return {
        "request": {"method": answer.method, "path": answer.path, "body": redact_json(answer.request)},
        "status": answer.status,
        "answer": redact_json(answer.body),
    }


class Stage:
    """One scenario's world: the two apps' drivers, the shops coupled so far and the orders named so far."""

    def __init__(
        self, portal: PortalClient, sim: SimAdmin, state: PortalState, exchanges: list[dict[str, Any]]
    ) -> None:
        self.portal, self.sim, self.state = portal, sim, state
        self.shops: dict[str, Shop] = {}
        self.orders: dict[str, int] = {}
        self.exchanges = exchanges  # what the portal's client saw, for a failed step's evidence

    async def call(
        self, method: str, path: str, body: Any = None, expect: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """A portal call; with ``expect`` naming a status it must fail so, otherwise it must succeed."""
        answer = await self.portal.call(method, path, body, **kwargs)
        wanted = (expect or {}).get("status")
        if wanted is not None:
            if answer.status != wanted or (expect or {}).get("detail", "") not in answer.detail:
                self.fail(
                    f"{wanted} with {(expect or {}).get('detail', 'any detail')!r}", f"{answer.status}: {answer.detail}"
                )
            return None
        if answer.status >= 400:
            shown = answer.body.get("detail") if isinstance(answer.body, dict) else answer.body
            self.fail("a successful answer", f"{answer.status}: {shown}")
        return answer.body

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

    async def sim_order_id(self, args: dict[str, Any]) -> str:
        order = await self.call("GET", f"/api/stock-orders/{self.order(args)}")
        supplier_id = order["orderportal"]["supplierOrderId"]
        self.check(supplier_id is not None, "a sent order", order["state"])
        return str(supplier_id)


async def _shop(stage: Stage, args: dict[str, Any], couple: bool) -> Shop:
    """The shop named in ``args`` set up over the portal's API, with the customer's login from the simulator."""
    name, number = args.get("shop", "main"), args["customer"]
    code = f"{name.upper()}-{number}"
    names = ShopNames(
        args.get("unit", code),
        f"Store {name}",
        args.get("warehouse", f"W-{code}"),
        f"Warehouse {name}",
        args.get("supplier", f"Supplier for {code}"),
    )
    try:
        login = await stage.sim.credentials(number)
    except ApiError:  # a customer the supplier does not know: coupling it must fail
        login = Login(number, "basic", "nobody", "x")
    if "password" in args:
        login = Login(number, login.auth, login.username, args["password"], login.api_key)
    interface = args.get("interface", "ORDERPORTAL")
    try:
        made = await set_up_shop(
            stage.portal, stage.sim, number, names=names, interface=interface, login=login, couple=couple
        )
    except ApiError as exc:
        raise StepFailed("a successful answer", str(exc), stage.exchanges[-3:]) from None
    shop = Shop(made.unit, made.house, made.supplier, made.customer)
    stage.shops[name] = shop
    return shop


async def set_up(stage: Stage, args: dict[str, Any]) -> str:
    shop = await _shop(stage, args, couple=False)
    unit, house, supplier = shop.unit["code"], shop.house["code"], shop.supplier
    return f"org unit {unit}, warehouse {house}, supplier {supplier['name']} on {supplier['orderInterface']}"


async def couple(stage: Stage, args: dict[str, Any]) -> str:
    known = stage.shops.get(args.get("shop", "main"))
    shop = known if known and known.customer["number"] == args["customer"] else await _shop(stage, args, couple=False)
    coupled = await stage.call("POST", f"/api/customer-numbers/{shop.customer['id']}/couple", expect=args.get("expect"))
    if coupled is None:
        return f"customer number {args['customer']} refused as expected"
    shop.customer = coupled
    return f"customer number {coupled['number']} ({coupled['authMethod']}): {coupled['state']}"


async def open_portal(stage: Stage, args: dict[str, Any]) -> str | None:
    shop = stage.shop(args)
    expect = args.get("expect", {})
    body = {"supplierId": shop.supplier["id"], "warehouseId": shop.house["id"]}
    opened = await stage.call("POST", "/api/orderportal/open", body, expect=expect if "status" in expect else None)
    if opened is None:
        return None
    for key in ("fetched", "delta"):
        if key in expect:
            stage.check(opened[key] == expect[key], f"{key} {expect[key]}", opened[key])
    shop.products = (await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/products?size=1000"))["items"]
    return f"Orderportal opened: {opened['fetched']} supplier products imported"


def cart_path(shop: Shop) -> str:
    return f"/api/carts/{shop.supplier['id']}/{shop.house['id']}"


async def cart(stage: Stage, args: dict[str, Any]) -> str:
    shop = stage.shop(args)
    amounts = {p["productNumber"]: p["containerAmount"] for p in shop.products}
    put = []
    for line in args["lines"]:
        number = stage.product_number(shop, line["product"])
        await stage.call(
            "PUT", f"{cart_path(shop)}/lines/{number}", {"containers": line["containers"]}, expect=args.get("expect")
        )
        put.append(f"{line['containers']} x {amounts.get(number, '?')} of {number}")
    return "cart filled by containers: " + ", ".join(put)


async def update_products(stage: Stage, args: dict[str, Any]) -> str:
    counts = await stage.call("POST", f"{cart_path(stage.shop(args))}/update-products")
    for key, wanted in args.get("expect", {}).items():
        stage.check(counts[key] == wanted, f"{wanted} {key}", counts)
    return "Update Products: " + ", ".join(f"{counts[k]} {k}" for k in ("created", "updated", "unchanged"))


async def create(stage: Stage, args: dict[str, Any]) -> str | None:
    expect = args.get("expect", {})
    order = await stage.call(
        "POST", f"{cart_path(stage.shop(args))}/create-stock-orders", expect=expect if "status" in expect else None
    )
    if order is None:
        return None
    if "same" in expect:
        stage.check(
            order["id"] == stage.orders.get(expect["same"]), f"the same order as {expect['same']!r}", order["number"]
        )
    if "lines" in expect:
        stage.check(len(order["lines"]) == expect["lines"], f"{expect['lines']} lines", len(order["lines"]))
    if "as" in args:
        stage.orders[args["as"]] = order["id"]
    if order["id"] in stage.orders.values() and "as" not in args:
        line = order["lines"][0]["containers"]
        return f"the cart went into the same unbooked order {order['number']}: line 1 now {line} containers"
    return f"stock order {order['number']} created with {len(order['lines'])} lines"


async def edit(stage: Stage, args: dict[str, Any]) -> str | None:
    body = {k: v for k, v in args.items() if k in ("lines", "note")}
    edited = await stage.call("PATCH", f"/api/stock-orders/{stage.order(args)}", body, expect=args.get("expect"))
    if edited is None:
        return None
    lines = ", ".join(f"line {x['lineNumber']}: {x['containers']} containers" for x in args.get("lines", []))
    return f"{edited['number']} edited ({lines or 'the note'})"


async def book(stage: Stage, args: dict[str, Any]) -> str | None:
    booked = await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/book", expect=args.get("expect"))
    return None if booked is None else f"{booked['number']} {booked['state']}"


async def send(stage: Stage, args: dict[str, Any]) -> str | None:
    sent = await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/send", expect=args.get("expect"))
    if sent is None:
        return None
    at = sent["orderportal"]
    return f"{sent['number']} {sent['state']}: supplier order {at['supplierOrderId']} is {at['status']}"


async def advance(stage: Stage, by: str) -> str:
    return f"clock at {(await stage.sim.advance(by))['now']}"


async def poll(stage: Stage, args: dict[str, Any]) -> str | None:
    if "order" in args:
        polled = await stage.call("POST", f"/api/stock-orders/{stage.order(args)}/poll", expect=args.get("expect"))
        return None if polled is None else f"polled {polled['number']}: {polled['poll']['result']}"
    shop = stage.shop(args)
    polled = await stage.call("POST", f"/api/suppliers/{shop.supplier['id']}/poll", expect=args.get("expect"))
    return None if polled is None else f"polling applied {polled['applied']} more"


async def admin(stage: Stage, args: dict[str, Any]) -> str:
    done = []
    if "catalog" in args:
        change = dict(args["catalog"])
        change["productNumber"] = stage.product_number(stage.shop({}), change.pop("product"))
        await stage.sim.change_catalog(change)
        done.append(f"the supplier makes a {change['kind']} change to {change['productNumber']}")
    if "transition" in args:
        move = args["transition"]
        body = {k: v for k, v in move.items() if k in ("status", "reasonCode")}
        await stage.sim.transition(await stage.sim_order_id(move), body)
        done.append(f"the supplier moves {move['order']} to {move['status']}")
    if "dispatch" in args:
        body = {k: v for k, v in args["dispatch"].items() if k == "lines"}
        await stage.sim.dispatch(await stage.sim_order_id(args["dispatch"]), body)
        done.append(f"the supplier dispatches {args['dispatch']['order']}")
    if args.get("expire_tokens"):
        done.append(f"the supplier forgets its {await stage.sim.expire_tokens()} tokens")  # as a restart would
    return "; ".join(done)


async def dispatch(stage: Stage, args: dict[str, Any]) -> str | None:
    expect = args.get("expect", {})
    notes = await stage.call(
        "POST",
        f"/api/stock-orders/{stage.order(args)}/dispatch-notifications",
        expect=expect if "status" in expect else None,
    )
    if notes is None:
        return None
    if "notifications" in expect:
        stage.check(
            len(notes["items"]) == expect["notifications"],
            f"{expect['notifications']} notifications",
            len(notes["items"]),
        )
    told = [
        f"{n['notificationId']} by {n['carrier']}: {sum(x['quantity'] for x in n['lines'])} units"
        for n in notes["items"]
    ]
    return "dispatch notification " + ", ".join(told) if told else "no dispatch notification yet"


async def receive(stage: Stage, args: dict[str, Any]) -> str | None:
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
    if receipt is None:
        return None
    if args.get("book", True):
        receipt = await stage.call("POST", f"/api/stock-receipts/{receipt['id']}/book")
    source = "the order" if args.get("from") == "order" else "the dispatch notification"
    return f"stock receipt {receipt['id']} from {source}: {receipt['state']}"


async def webhook(stage: Stage, args: dict[str, Any]) -> str:
    """Deliver an event as the supplier would, signed with the secret it was given."""
    shop = stage.shop(args)
    secret = await stage.state.webhook_secret(shop.customer["id"]) or ""
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
    return f"event {args['eventId']}: {outcome['result']}"


async def expect_order(stage: Stage, args: dict[str, Any]) -> str:
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
    if seen["rejectionReason"]:
        why = f"{seen['rejectionReason']}: {seen['history'][-1]['message']}"
        return f"{order['number']}: {seen['status']} ({why})"
    return f"{order['number']}: " + " -> ".join(checks["history"] or [order["state"]])


async def expect_stock(stage: Stage, args: dict[str, Any]) -> str:
    shop = stage.shop(args)
    number = stage.product_number(shop, args["product"])
    listed = await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/products?size=1000")
    match = next((p["match"] for p in listed["items"] if p["productNumber"] == number), None)
    levels = (await stage.call("GET", f"/api/warehouses/{shop.house['id']}/stock-levels"))["items"]
    quantity = next((x["quantity"] for x in levels if match and x["productId"] == match["productId"]), 0)
    stage.check(quantity == args["quantity"], f"{args['quantity']} of {number} in stock", quantity)
    return f"{quantity} of {number} in stock"


async def stock_levels(stage: Stage, args: dict[str, Any]) -> str:
    shop = stage.shop(args)
    levels = (await stage.call("GET", f"/api/warehouses/{shop.house['id']}/stock-levels"))["items"]
    listed = ", ".join(f"product {x['productId']}: {x['quantity']}" for x in levels)
    return f"stock levels of {shop.house['code']}: {listed or 'none'}"


async def expect_wire(stage: Stage, args: dict[str, Any]) -> str:
    """What the supplier saw of the Supplier API, from its request journal: the admin API's own calls never count."""
    found = [
        e
        for e in await stage.sim.journal()
        if not e["path"].startswith("/_sim/")
        and e["method"] == args["method"]
        and args["path"] in e["path"]
        and args.get("query", "") in e["query"]
    ]
    if "count" in args:
        stage.check(
            len(found) == args["count"], f"{args['count']} {args['method']} {args['path']} at the supplier", len(found)
        )
    return f"{len(found)} {args['method']} {args['path']} at the supplier"


async def expect_violations(stage: Stage, args: dict[str, Any]) -> str:
    shop = stage.shop({})
    items = (await stage.call("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"]
    stage.check(len(items) == args["count"], f"{args['count']} contract violations", [v["detail"] for v in items])
    if "contains" in args:
        stage.check(
            any(args["contains"] in v["detail"] for v in items),
            f"a violation saying {args['contains']!r}",
            [v["detail"] for v in items],
        )
    return f"{len(items)} contract violations"


async def expect_catalog(stage: Stage, args: dict[str, Any]) -> str:
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
    return f"{number}: differences {found['differences']}"


async def together(stage: Stage, steps: list[dict[str, Any]]) -> str:
    """Several steps told as one: the manual's walk narrates a line for what a user does in one go."""
    told = []
    for step in steps:
        ((action, args),) = step.items()
        summary = await ACTIONS[action](stage, args)
        if summary:
            told.append(summary)
    return "; ".join(told)


ACTIONS: dict[str, Any] = {
    "set_up": set_up,
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
    "stock_levels": stock_levels,
    "expect_wire": expect_wire,
    "expect_violations": expect_violations,
    "expect_catalog": expect_catalog,
    "together": together,
}
