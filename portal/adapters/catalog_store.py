"""Importing a supplier's list in bulk: one upsert statement per page, the dialect's own."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Boolean, Column
from sqlalchemy.engine import Dialect

from portal.adapters.column_types import DecimalText, ValueTuple
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

    One statement compiled once and handed to the driver's executemany with rows built here:
    SQLAlchemy's per-row parameter handling cost more than the insert itself. A product is a tuple
    in the columns' own order, so a chunk is turned into columns in one pass, and only the columns
    whose type changes a value are bound, a column at a time.
    """
    dialect = rows.connection.dialect
    insert = upsert_into(dialect.name, catalog_entries)
    statement = insert.on_conflict_do_update(
        index_elements=["supplier_id", "product_number"], set_={name: insert.excluded[name] for name in UPDATED}
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(COLUMNS))
    if tuple(compiled.positiontup or ()) != COLUMNS:  # the rows are built in this order, not by name
        raise RuntimeError(f"the upsert's parameters are {compiled.positiontup}, not {COLUMNS}")
    binders = [_binder(catalog_entries.c[name], dialect) for name in FIELDS]
    for start in range(0, len(products), CHUNK):
        chunk = products[start : start + CHUNK]
        columns = zip(zip(*chunk, strict=True), binders, strict=True)
        values = [column if bind is None else bind(column) for column, bind in columns]
        batch = zip([supplier_id] * len(chunk), *values, strict=True)
        await rows.exec_driver_sql(compiled.string, list(batch))


def _binder(column: Column[Any], dialect: Dialect) -> Callable[[Iterable[Any]], Iterable[Any]] | None:
    """How a column's values are bound in bulk: None when they go to the driver as they are.

    A column type of ours binds a whole column itself, without a Python call per value (the bind
    processors took a tenth of the import). A product's flag is already a bool: asyncpg takes it as
    it is, SQLite as the int it is kept as. Every column of the list is NOT NULL: no value is None.
    """
    if column.nullable:
        raise RuntimeError(f"{column.name} may be NULL, and the bulk binding has no case for None")
    if isinstance(column.type, DecimalText | ValueTuple):
        return column.type.bind_all
    if isinstance(column.type, Boolean):  # sqlite3 adapts a bool through a slow lookup; an int goes straight in
        return None if dialect.supports_native_boolean else partial(map, int)
    process = column.type.bind_processor(dialect)
    return None if process is None else partial(map, process)
