"""The repositories behind the unit of work: one per entity, on SQLAlchemy Core, plus the dialect's bulk writes."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select

from portal.adapters import catalog_store, stock_store
from portal.adapters.identity_map import IdentityMap
from portal.adapters.mapping import SHAPES, item_key
from portal.adapters.tables import product_keys
from portal.domain.catalog import Cart, CatalogEntry, Product
from portal.domain.errors import NotFound
from portal.domain.messages import CatalogProduct
from portal.domain.model import SeenEvent, StockLevel
from portal.service_layer.unit_of_work import kind_of

T = TypeVar("T")


def locked(query: Select[Any]) -> Select[Any]:
    """The query FOR NO KEY UPDATE on PostgreSQL (a row's foreign-key checks still pass).

    SQLite has no row locks: every transaction there begins IMMEDIATE, so actions run one at a time.
    """
    return query.with_for_update(key_share=True)


class SqlRepository(Generic[T]):
    def __init__(self, rows: IdentityMap, cls: type[T]) -> None:
        self.rows, self.cls, self.shape = rows, cls, SHAPES[cls]

    def add(self, entity: T) -> None:
        self.rows.add(entity)

    async def remove(self, entity: T) -> None:
        self.rows.remove(entity)

    async def get(self, ident: int, lock: bool = False) -> T:
        found = await self.rows.select(self.shape, _selection(self.cls, ("id",), lock), {"id": ident}, lock, first=True)
        if not found:
            raise NotFound(f"no {kind_of(self.cls)} has this id")
        return found[0]  # type: ignore[no-any-return]

    async def one(self, lock: bool = False, **where: Any) -> T | None:
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(self.shape.table).where(*self._filters(where))
            query, where = (locked(query) if lock else query), {}
        else:
            query = _selection(self.cls, tuple(where), lock)
        found = await self.rows.select(self.shape, query, where, lock, first=True)
        return found[0] if found else None

    async def all(self, order_by: str = "id", **where: Any) -> list[T]:
        table = self.shape.table
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(table).where(*self._filters(where)).order_by(table.c[order_by])
            return await self.rows.select(self.shape, query, {}, False)
        return await self.rows.select(self.shape, _selection(self.cls, tuple(where), order_by=order_by), where, False)

    async def among(self, attribute: str, values: Sequence[Any], **where: Any) -> list[T]:
        table = self.shape.table
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(table).where(table.c[attribute].in_(values), *self._filters(where))
            return await self.rows.select(self.shape, query, {}, False)
        query = _selection(self.cls, tuple(where), among=attribute)
        return await self.rows.select(self.shape, query, {**where, AMONG: list(values)}, False)

    async def count(self, **where: Any) -> int:
        query = select(func.count()).select_from(self.shape.table).where(*self._filters(where))
        return int(await self.rows.scalar(query) or 0)

    async def page(self, order_by: str, page: int, size: int, **where: Any) -> tuple[list[T], int]:
        table = self.shape.table
        query = select(table).where(*self._filters(where)).order_by(table.c[order_by])
        items = await self.rows.select(self.shape, query.limit(size).offset((page - 1) * size), {}, False)
        return items, await self.count(**where)

    def _filters(self, where: dict[str, Any]) -> list[ColumnElement[bool]]:
        table = self.shape.table
        return [table.c[name] == value for name, value in where.items()]


AMONG = "among_values"  # the parameter that lists the values of a selection's ``among`` column
_SELECTIONS: dict[tuple[type[Any], tuple[str, ...], bool, str | None, str | None], Select[Any]] = {}


def _selection(
    cls: type[Any], names: tuple[str, ...], lock: bool = False, order_by: str | None = None, among: str | None = None
) -> Select[Any]:
    """The entity's rows where each named column equals its parameter (and the ``among`` column is one of
    the AMONG parameter's values): built once, executed with values.

    Building a statement costs more than SQLite takes to run it; these few shapes are built once each.
    """
    key = (cls, names, lock, order_by, among)
    query = _SELECTIONS.get(key)
    if query is None:
        table = SHAPES[cls].table
        query = select(table).where(*(table.c[name] == bindparam(name) for name in names))
        if among is not None:
            query = query.where(table.c[among].in_(bindparam(AMONG, expanding=True)))
        if order_by is not None:
            query = query.order_by(table.c[order_by])
        query = _SELECTIONS[key] = locked(query) if lock else query
    return query


class SqlCatalog(SqlRepository[CatalogEntry]):
    async def upsert(self, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
        await catalog_store.upsert(self.rows, supplier_id, products)


class SqlProducts(SqlRepository[Product]):
    async def matching(self, entries: Sequence[CatalogEntry], lock: bool = False) -> list[Product]:
        if not entries:
            return []
        items = [item_key(e.supplier_id, e.product_number) for e in entries]
        codes = [code for e in entries for code in e.barcodes]
        return await self.rows.select(self.shape, _matching(lock), {"items": items, "codes": codes}, lock)


@cache
def _matching(lock: bool) -> Select[Any]:
    """The products that share a supplier item or a barcode with the given ones: built once."""
    keys = product_keys.c
    ids = select(keys.product_id).where(
        ((keys.kind == "item") & keys.key.in_(bindparam("items", expanding=True)))
        | ((keys.kind == "barcode") & keys.key.in_(bindparam("codes", expanding=True)))
    )
    table = SHAPES[Product].table
    query = select(table).where(table.c.id.in_(ids)).order_by(table.c.id)
    return locked(query) if lock else query


class SqlCarts(SqlRepository[Cart]):
    async def ensure(self, supplier_id: int, warehouse_id: int) -> None:
        await stock_store.ensure_cart(self.rows, supplier_id, warehouse_id)


class SqlSeenEvents(SqlRepository[SeenEvent]):
    async def first_time(self, event: SeenEvent) -> bool:
        return await stock_store.note_seen(self.rows, event)


class SqlStock(SqlRepository[StockLevel]):
    async def raise_stock(self, warehouse_id: int, product_id: int, quantity: int) -> bool:
        return await stock_store.raise_stock(self.rows, warehouse_id, product_id, quantity)
