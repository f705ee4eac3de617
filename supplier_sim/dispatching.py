"""Dispatch plans and notifications: what an accepted order ships, and when."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from contracts.wire import DAY_MS, format_date, format_timestamp, later
from supplier_sim.problems import Problem
from supplier_sim.profile import Profile


def plan(lines: list[dict[str, Any]], profile: Profile, rng: random.Random) -> dict[str, Any]:
    """Split what ships over one or several notifications; a short shipment sends less, never nothing."""
    count = rng.randint(*profile.notifications)
    shipped = {}
    for line in lines:
        quantity = line["quantity"]
        short = quantity > 1 and rng.random() < profile.short_shipment_rate
        shipped[line["lineNumber"]] = rng.randint(1, quantity - 1) if short else quantity
    parts = [
        {str(number): quantity // count + (1 if k < quantity % count else 0) for number, quantity in shipped.items()}
        for k in range(count)
    ]
    return {"parts": [part for part in parts if any(part.values())], "next": 0, "dispatched": {}, "count": 0}


def shipped_per_product(lines: list[dict[str, Any]], plan: dict[str, Any]) -> Counter[str]:
    """What the plan takes from stock, per product."""
    product_of = {str(line["lineNumber"]): line["productNumber"] for line in lines}
    taken: Counter[str] = Counter()
    for part in plan["parts"]:
        for number, quantity in part.items():
            taken[product_of[number]] += quantity
    return taken


def notification(
    order_id: str,
    body: dict[str, Any],
    plan: dict[str, Any],
    quantities: dict[int, int],
    at_ms: int,
    profile: Profile,
    rng: random.Random,
    carrier: str | None = None,
    tracking: str | None = None,
    clamp: bool = True,
) -> dict[str, Any] | None:
    """The next dispatch notification, recorded in ``plan``; per line the sum never exceeds the order.

    With ``clamp`` a quantity is cut to what is left; without, asking for more is a 409.
    """
    done = {int(k): v for k, v in plan["dispatched"].items()}
    lines = []
    for line in body["lines"]:
        number, ordered = line["lineNumber"], line["quantity"]
        wanted, room = quantities.get(number, 0), ordered - done.get(number, 0)
        if wanted > room and not clamp:
            raise Problem.conflict("over-dispatch", f"line {number} has {room} of {ordered} left to dispatch")
        quantity = min(wanted, room)
        if quantity > 0:
            lines.append({"lineNumber": number, "productNumber": line["productNumber"], "quantity": quantity})
            done[number] = done.get(number, 0) + quantity
    if not lines:
        return None
    plan["dispatched"] = {str(k): v for k, v in done.items()}
    plan["count"] += 1
    return {
        "dispatchNotificationId": f"{order_id}-DN{plan['count']}",
        "orderId": order_id,
        "orderNumber": body["orderNumber"],
        "dispatchedAt": format_timestamp(at_ms),
        "expectedDeliveryDate": format_date(later(at_ms, profile.delivery_days * DAY_MS)),
        "carrier": carrier or rng.choice(profile.carriers),
        "trackingNumber": tracking or f"{rng.randrange(10**11, 10**12)}",
        "lines": lines,
    }
