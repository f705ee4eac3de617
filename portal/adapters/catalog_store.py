"""Importing a supplier's list in bulk: one upsert statement per page, the dialect's own."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from portal.adapters.orm import catalog_entries
from portal.domain.messages import CatalogProduct

CHUNK = 2000
UPDATED = ("name", "barcodes", "container_amount", "purchase_price", "currency", "tax_rate", "active", "updated_at")
FIELDS = ("product_number", *UPDATED)
COLUMNS = ("supplier_id", *FIELDS)
_fields = attrgetter(*FIELDS)


async def upsert(session: AsyncSession, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
    """Insert new entries and overwrite known ones, by (supplier, product number).

    One statement compiled once and handed to the driver's executemany with rows built here, each
    value through its column type's own bind processor: SQLAlchemy's per-row parameter handling
    cost more than the insert itself.
    """
    connection = await session.connection()
    dialect = connection.dialect
    insert = (pg_insert if dialect.name == "postgresql" else sqlite_insert)(catalog_entries)
    statement = insert.on_conflict_do_update(
        index_elements=["supplier_id", "product_number"], set_={name: insert.excluded[name] for name in UPDATED}
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(COLUMNS))
    order = [COLUMNS.index(name) for name in compiled.positiontup or []]
    assert sorted(order) == list(range(len(COLUMNS))), "one positional parameter per column"
    processors = [catalog_entries.c[COLUMNS[i]].type.bind_processor(dialect) for i in order]
    converted = [(at, process) for at, process in enumerate(processors) if process is not None]
    for start in range(0, len(products), CHUNK):
        rows = []
        for product in products[start : start + CHUNK]:
            values = (supplier_id, *_fields(product))
            row = [values[i] for i in order]
            for at, process in converted:
                row[at] = process(row[at])
            rows.append(tuple(row))
        await connection.exec_driver_sql(compiled.string, rows)
