"""What several families of checks share: the problem+json test, and an order to send and need."""

from __future__ import annotations

from typing import Any

from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import CheckSkipped, Context


def is_problem(exchange: Exchange) -> bool:
    return exchange.content_type == "application/problem+json" and isinstance(exchange.body, dict)


def order_body(ctx: Context, number: str, containers: int = 1) -> dict[str, Any]:
    product = next((p for p in ctx.found.get("products", []) if p.get("active")), None)
    if product is None:
        raise CheckSkipped("the product list has no active product to order")
    amount = product["containerAmount"]
    line = {
        "lineNumber": 1,
        "productNumber": product["productNumber"],
        "containers": containers,
        "containerAmount": amount,
        "quantity": containers * amount,
    }
    return {
        "orderNumber": number,
        "orgUnit": "CERTIFY",
        "warehouse": {"id": "CERT-W1", "name": "Certification warehouse"},
        "lines": [line],
    }


def key(ctx: Context, name: str) -> str:
    return f"certify-{ctx.target.run_id}-{name}"


def need_order(ctx: Context) -> dict[str, Any]:
    if "order" not in ctx.found:
        raise CheckSkipped("no order was created")
    order: dict[str, Any] = ctx.found["order"]
    return order
