"""What each scenario step does: portal actions over its API, clock and admin moves; each tells what it did."""

from __future__ import annotations

import json
import time
from typing import Any

from contracts.signing import signed_headers
from scenarios.drivers import ApiError, Login, ShopNames, set_up_shop
from scenarios.expectations import (
    expect_catalog,
    expect_order,
    expect_stock,
    expect_violations,
    expect_wire,
    stock_levels,
)
from scenarios.stage import Shop, Stage, StepFailed


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
    except ApiError as exc:
        if exc.answer.status != 404:
            raise
        login = Login(number, "basic", "nobody", "x")  # a customer the supplier does not know: coupling must fail
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


async def switch(stage: Stage, args: dict[str, Any]) -> str:
    """Change the supplier's order interface, as the manual's Edit Supplier page does."""
    shop = stage.shop(args)
    body = {"orderInterface": args["interface"], "baseUrl": stage.sim.url}
    shop.supplier = await stage.call("PATCH", f"/api/suppliers/{shop.supplier['id']}", body)
    return f"supplier {shop.supplier['name']} switched to {shop.supplier['orderInterface']}"


async def couple(stage: Stage, args: dict[str, Any]) -> str:
    known = stage.shops.get(args.get("shop", "main"))
    shop = known if known and known.customer["number"] == args["customer"] else await _shop(stage, args, couple=False)
    coupled = await stage.call("POST", f"/api/customer-numbers/{shop.customer['id']}/couple", expect=args.get("expect"))
    if coupled is None:
        return f"customer number {args['customer']} refused as expected"
    shop.customer = coupled
    pushed = ", webhook registered" if coupled["webhook"] else ", polling only"
    return f"customer number {coupled['number']} ({coupled['authMethod']}): {coupled['state']}{pushed}"


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
    lines = len(order["lines"])
    return f"stock order {order['number']} created with {lines} line{'' if lines == 1 else 's'}"


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
    "switch": switch,
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
