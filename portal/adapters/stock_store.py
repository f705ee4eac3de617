"""Stock levels, carts and seen events, written with the dialect's own upsert so that concurrent writers add up."""

from __future__ import annotations

from functools import cache
from typing import Any

from portal.adapters.database import upsert_into
from portal.adapters.identity_map import IdentityMap
from portal.adapters.tables import carts, seen_events, stock_levels
from portal.domain.model import MAX_STOCK, SeenEvent


@cache
def _stock_raise(dialect: str) -> Any:
    """Add the quantity given to a stock level, or make it: built once per dialect."""
    statement = upsert_into(dialect, stock_levels)
    return statement.on_conflict_do_update(
        index_elements=["warehouse_id", "product_id"],
        set_={"quantity": stock_levels.c.quantity + statement.excluded.quantity},
        # Checked as a difference, so that the sum itself never overflows the column.
        where=stock_levels.c.quantity <= MAX_STOCK - statement.excluded.quantity,
    )


async def raise_stock(rows: IdentityMap, warehouse_id: int, product_id: int, quantity: int) -> bool:
    """Add ``quantity`` to a product's stock in a warehouse, in one statement; False when it would pass MAX_STOCK."""
    if quantity > MAX_STOCK:
        return False
    values = {"warehouse_id": warehouse_id, "product_id": product_id, "quantity": quantity}
    result = await rows.execute(_stock_raise(rows.connection.dialect.name), values)
    return bool(result.rowcount)  # type: ignore[attr-defined,union-attr]


@cache
def _first_sight(dialect: str) -> Any:
    """INSERT a seen event, or nothing when its id was seen already: built once per dialect."""
    return upsert_into(dialect, seen_events).on_conflict_do_nothing(index_elements=["customer_number_id", "event_id"])


async def note_seen(rows: IdentityMap, event: SeenEvent) -> bool:
    """Keep a supplier's event as seen unless its id was seen already, in one statement: whether it is new."""
    values = {"customer_number_id": event.customer_number_id, "event_id": event.event_id}
    statement = _first_sight(rows.connection.dialect.name)
    result = await rows.execute(statement, {**values, "received_at": event.received_at})
    return bool(result.rowcount)  # type: ignore[attr-defined,union-attr]


async def ensure_cart(rows: IdentityMap, supplier_id: int, warehouse_id: int) -> None:
    """Make the (empty) cart of a supplier and warehouse exist, however many ask at once."""
    statement = _cart_made(rows.connection.dialect.name)
    await rows.execute(statement, {"supplier_id": supplier_id, "warehouse_id": warehouse_id, "lines": ()})


@cache
def _cart_made(dialect: str) -> Any:
    """INSERT an empty cart, or nothing when it exists: built once per dialect."""
    return upsert_into(dialect, carts).on_conflict_do_nothing(index_elements=["supplier_id", "warehouse_id"])
