"""Importing a supplier's list in bulk: one upsert statement per page, the dialect's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from portal.adapters.orm import catalog_entries
from portal.domain.messages import CatalogProduct

CHUNK = 2000
UPDATED = ("name", "barcodes", "container_amount", "purchase_price", "currency", "tax_rate", "active", "updated_at")
FIELDS = ("product_number", *UPDATED)


def entry_row(supplier_id: int, product: CatalogProduct) -> dict[str, Any]:
    """A supplier's product as a catalog entry row."""
    return {"supplier_id": supplier_id, **{name: getattr(product, name) for name in FIELDS}}


async def upsert(session: AsyncSession, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
    """Insert new entries and overwrite known ones, by (supplier, product number)."""
    insert = (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(catalog_entries)
    # One statement compiled once, executed for many rows: SQLAlchemy batches them itself.
    statement = insert.on_conflict_do_update(
        index_elements=["supplier_id", "product_number"], set_={name: insert.excluded[name] for name in UPDATED}
    )
    for start in range(0, len(products), CHUNK):
        await session.execute(statement, [entry_row(supplier_id, p) for p in products[start : start + CHUNK]])
