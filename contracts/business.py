"""The rules of Supplier API v1 that JSON Schema cannot state, in one implementation.

The simulator refuses an order request that breaks them, and `orderportal contracts validate` applies them to a
file after its schema, so a vendor's example order is judged as the simulator would judge it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts.loader import Violation
from contracts.statuses import illegal_step
from contracts.wire import parse_timestamp


def order_lines(lines: list[dict[str, Any]], at: str = "") -> list[Violation]:
    """quantity = containers x containerAmount on each line, and no line number used twice."""
    errors = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        if line["quantity"] != line["containers"] * line["containerAmount"]:
            errors.append(Violation(f"{at}/lines/{index}/quantity", "must be containers x containerAmount"))
        if line["lineNumber"] in seen:
            errors.append(Violation(f"{at}/lines/{index}/lineNumber", "is used by another line"))
        seen.add(line["lineNumber"])
    return errors


def order_request(body: dict[str, Any], at: str = "") -> list[Violation]:
    return order_lines(body["lines"], at)


def order(body: dict[str, Any], at: str = "") -> list[Violation]:
    """An order's lines, and a status history that starts NEW, moves legally, keeps time and ends at its status."""
    errors = order_lines(body["lines"], at)
    history = body["statusHistory"]
    step = illegal_step([entry["status"] for entry in history])
    if step is not None:
        index, before, after = step
        why = "must start at NEW" if index == 0 else f"{before} may not move to {after}"
        errors.append(Violation(f"{at}/statusHistory/{index}/status", why))
    if history[-1]["status"] != body["status"]:
        errors.append(Violation(f"{at}/status", "must be the status of the last statusHistory entry"))
    times = [parse_timestamp(entry["at"]) for entry in history]
    errors += [
        Violation(f"{at}/statusHistory/{index}/at", "must not be earlier than the entry before it")
        for index in range(1, len(times))
        if times[index] < times[index - 1]
    ]
    return errors


def order_page(body: dict[str, Any], at: str = "") -> list[Violation]:
    return [error for index, item in enumerate(body["items"]) for error in order(item, f"{at}/items/{index}")]


RULES: dict[str, Callable[[dict[str, Any]], list[Violation]]] = {
    "order-request": order_request,
    "order": order,
    "order-page": order_page,
}


def business_errors(name: str, instance: Any) -> list[Violation]:
    """The business rules' violations of an instance that already meets its schema ``name``."""
    rules = RULES.get(name)
    return rules(instance) if rules else []
