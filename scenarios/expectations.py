"""The scenario steps that check what the portal and the supplier show, each telling what it found."""

from __future__ import annotations

from typing import Any

from scenarios.stage import Stage


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
    listed = ", ".join(f"{x['productNumber']} ({x['productName']}): {x['quantity']}" for x in levels)
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
