"""Importing a supplier's list in bulk: one upsert statement per page, the dialect's own."""

from __future__ import annotations

from collections.abc import Sequence

from portal.adapters.database import upsert_into
from portal.adapters.identity_map import IdentityMap
from portal.adapters.tables import catalog_entries
from portal.domain.messages import CatalogProduct

CHUNK = 2000
FIELDS = CatalogProduct._fields  # the product number, then what an update overwrites
UPDATED = FIELDS[1:]
COLUMNS = ("supplier_id", *FIELDS)


async def upsert(rows: IdentityMap, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
    """Insert new entries and overwrite known ones, by (supplier, product number).

    One statement compiled once and handed to the driver's executemany with rows built here, each
    value through its column type's own bind processor: SQLAlchemy's per-row parameter handling
    cost more than the insert itself. A product is a tuple in the columns' own order, so a chunk is
    turned into columns in one pass, and only the columns whose type processes a value are mapped.
    """
    dialect = rows.connection.dialect
    insert = upsert_into(dialect.name, catalog_entries)
    statement = insert.on_conflict_do_update(
        index_elements=["supplier_id", "product_number"], set_={name: insert.excluded[name] for name in UPDATED}
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(COLUMNS))
    if tuple(compiled.positiontup or ()) != COLUMNS:  # the rows are built in this order, not by name
        raise RuntimeError(f"the upsert's parameters are {compiled.positiontup}, not {COLUMNS}")
    processors = [catalog_entries.c[name].type.bind_processor(dialect) for name in FIELDS]
    for start in range(0, len(products), CHUNK):
        chunk = products[start : start + CHUNK]
        columns = zip(zip(*chunk, strict=True), processors, strict=True)
        values = [column if process is None else map(process, column) for column, process in columns]
        batch = zip([supplier_id] * len(chunk), *values, strict=True)
        await rows.exec_driver_sql(compiled.string, list(batch))
