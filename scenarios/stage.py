"""One scenario's world as its steps see it: the apps' drivers, the shops and orders named so far, and failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.redaction import redact_json
from portal.state import PortalState
from scenarios.drivers import Answer, PortalClient, SimAdmin


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
