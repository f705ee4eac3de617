"""Answers broken on purpose, as the profile's ``misbehave`` switches say, so that certification can catch each.

Every switch acts on the answer only: the database keeps the truth, so the lifecycle, the
admin API and a later run with the switches off see consistent state.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from contracts.statuses import ACCEPTED, PROCESSED
from contracts.wire import format_timestamp
from supplier_sim.catalog import Catalog, page_bytes
from supplier_sim.orders import OWN_KEY
from supplier_sim.problems import Problem
from supplier_sim.profile import Customer, Misbehaviour

# The named routes whose answers each switch breaks; strict mode does not check them.
BROKEN_ROUTES: dict[str, frozenset[str]] = {
    "wrong_totals": frozenset({"products"}),
    "product_missing_between_pages": frozenset({"products"}),
    "wrong_field_type": frozenset({"products"}),
    "illegal_status_move": frozenset({"order"}),
    "over_dispatch": frozenset({"dispatch-notifications"}),
    "duplicate_on_replay": frozenset({"orders.create"}),
    "server_error_on_bad_input": frozenset({"orders.create"}),
    "leak_other_customer": frozenset({"products", "orders.list"}),
}


class Saboteur:
    """Breaks answers as the switches say; with every switch off it is never asked to."""

    def __init__(self, switches: Misbehaviour) -> None:
        self.switches = switches
        # Checked on the products hot path: one attribute, so the switches off cost nothing.
        self.breaks_product_pages = (
            switches.wrong_totals or switches.product_missing_between_pages or switches.wrong_field_type
        )
        self.unchecked_routes = frozenset(
            route for name, routes in BROKEN_ROUTES.items() if getattr(switches, name) for route in routes
        )
        self._moved_back: set[str] = set()

    def product_page(self, catalog: Catalog, page: int, size: int, since_ms: int | None, text: str | None) -> bytes:
        """A product page with wrong totals, a product missing between pages or a field of the wrong type."""
        items = catalog.matching(since_ms, text)
        total = len(items)
        if self.switches.product_missing_between_pages and total > size:
            items = items[:size] + items[size + 1 :]  # a new list: the catalog's own stays whole
        if self.switches.wrong_totals:
            total += 1
        start = (page - 1) * size
        shown = items[start : start + size]
        if self.switches.wrong_field_type:
            shown = [_container_amount_as_text(raw) for raw in shown]
        return page_bytes(shown, total, page, size)

    def order(self, order: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """The first answer for an ACCEPTED order shows it moved back to PROCESSED; later ones the truth."""
        if not self.switches.illegal_status_move or order["status"] != ACCEPTED or order["orderId"] in self._moved_back:
            return order
        # Once per order, so that a client waiting for a final status still sees ACCEPTED.
        self._moved_back.add(order["orderId"])
        at = format_timestamp(now_ms)
        history = [*order["statusHistory"], {"status": PROCESSED, "at": at}]
        return {**order, "status": PROCESSED, "statusHistory": history, "updatedAt": at}

    def dispatch_notifications(self, items: list[dict[str, Any]], order: dict[str, Any] | None) -> list[dict[str, Any]]:
        """Each notification ships twice the ordered quantity of the order's first line."""
        if not self.switches.over_dispatch or order is None:
            return items
        first = order["lines"][0]
        number, doubled = first["lineNumber"], {"quantity": 2 * first["quantity"]}
        return [
            {**dn, "lines": [line | doubled if line["lineNumber"] == number else line for line in dn["lines"]]}
            for dn in items
        ]

    @staticmethod
    def duplicate_key() -> str:
        """A fresh key to store a replay under, so that it makes a second order."""
        return f"{OWN_KEY}{uuid.uuid4().hex}"

    def bad_input(self, problem: Problem) -> Problem:
        """An order body that fails validation gets a 500 instead of its 422."""
        if not (self.switches.server_error_on_bad_input and problem.status == 422):
            return problem
        return Problem(500, "internal-error", "Internal Server Error", "the order could not be created")

    def leaked_customer(self, problem: Problem, customers: Mapping[str, Customer], number: str) -> Customer | None:
        """Instead of a 403, the customer whose path was asked for (None: keep the problem)."""
        if not (self.switches.leak_other_customer and problem.status == 403):
            return None
        return customers.get(number)


def _container_amount_as_text(raw: bytes) -> bytes:
    product = orjson.loads(raw)
    product["containerAmount"] = str(product["containerAmount"])
    return orjson.dumps(product)
