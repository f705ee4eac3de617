"""The SQLAlchemy repositories behind the unit of work: one per entity, plus the dialect's bulk writes."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, inspect, select

from portal.adapters import catalog_store, stock_store
from portal.adapters.database import DbSession
from portal.adapters.mapping import MAPPED, item_key
from portal.adapters.orm import product_keys
from portal.domain.catalog import Cart, CatalogEntry, Product
from portal.domain.errors import NotFound
from portal.domain.messages import CatalogProduct
from portal.domain.model import SeenEvent, StockLevel
from portal.service_layer.unit_of_work import kind_of

T = TypeVar("T")
HELD = "held"  # the session's rows loaded with a lock: the only persistent rows an action may change


def hold(session: DbSession, entities: Sequence[object]) -> None:
    """Note rows loaded FOR UPDATE, so that the unit of work lets the action change them."""
    held = session.info.setdefault(HELD, set())
    held.update(inspect(entity).identity_key for entity in entities)


def locked(query: Select[Any]) -> Select[Any]:
    """The query FOR NO KEY UPDATE on PostgreSQL (a row's foreign-key checks still pass), freshly read.

    SQLite has no row locks: every transaction there begins IMMEDIATE, so actions run one at a time.
    """
    return query.with_for_update(key_share=True).execution_options(populate_existing=True)


class SqlRepository(Generic[T]):
    def __init__(self, session: DbSession, cls: type[T]) -> None:
        self.session, self.cls = session, cls

    def add(self, entity: T) -> None:
        self.session.add(entity)

    async def remove(self, entity: T) -> None:
        await self.session.delete(entity)

    async def get(self, ident: int, lock: bool = False) -> T:
        # Not Session.get: it builds its statement anew on every call, which costs more than the read.
        query = _selection(self.cls, ("id",), lock)
        found = (await self.session.execute(query, {"id": ident})).scalars().first()
        if found is None:
            raise NotFound(f"no {kind_of(self.cls)} has this id")
        if lock:
            hold(self.session, [found])
        return found

    async def one(self, lock: bool = False, **where: Any) -> T | None:
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(self.cls).where(*self._filters(where))
            query, where = (locked(query) if lock else query), {}
        else:
            query = _selection(self.cls, tuple(where), lock)
        found = (await self.session.execute(query, where)).scalars().first()
        if lock and found is not None:
            hold(self.session, [found])
        return found

    async def all(self, order_by: str = "id", **where: Any) -> list[T]:
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(self.cls).where(*self._filters(where)).order_by(MAPPED[self.cls].c[order_by])
            return list((await self.session.execute(query)).scalars())
        query = _selection(self.cls, tuple(where), order_by=order_by)
        return list((await self.session.execute(query, where)).scalars())

    async def among(self, attribute: str, values: Sequence[Any], **where: Any) -> list[T]:
        if None in where.values():  # IS NULL, which a parameter cannot say
            query = select(self.cls).where(MAPPED[self.cls].c[attribute].in_(values), *self._filters(where))
            return list((await self.session.execute(query)).scalars())
        query = _selection(self.cls, tuple(where), among=attribute)
        return list((await self.session.execute(query, {**where, AMONG: list(values)})).scalars())

    async def count(self, **where: Any) -> int:
        query = select(func.count()).select_from(MAPPED[self.cls]).where(*self._filters(where))
        return int(await self.session.scalar(query) or 0)

    async def page(self, order_by: str, page: int, size: int, **where: Any) -> tuple[list[T], int]:
        query = select(self.cls).where(*self._filters(where)).order_by(MAPPED[self.cls].c[order_by])
        items = list((await self.session.execute(query.limit(size).offset((page - 1) * size))).scalars())
        return items, await self.count(**where)

    def _filters(self, where: dict[str, Any]) -> list[ColumnElement[bool]]:
        table = MAPPED[self.cls]
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
        table = MAPPED[cls]
        query = select(cls).where(*(table.c[name] == bindparam(name) for name in names))
        if among is not None:
            query = query.where(table.c[among].in_(bindparam(AMONG, expanding=True)))
        if order_by is not None:
            query = query.order_by(table.c[order_by])
        query = _SELECTIONS[key] = locked(query) if lock else query
    return query


class SqlCatalog(SqlRepository[CatalogEntry]):
    async def upsert(self, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
        await catalog_store.upsert(self.session, supplier_id, products)


class SqlProducts(SqlRepository[Product]):
    async def matching(self, entries: Sequence[CatalogEntry], lock: bool = False) -> list[Product]:
        if not entries:
            return []
        items = [item_key(e.supplier_id, e.product_number) for e in entries]
        codes = [code for e in entries for code in e.barcodes]
        found = list((await self.session.execute(_matching(lock), {"items": items, "codes": codes})).scalars())
        if lock:
            hold(self.session, found)
        return found


@cache
def _matching(lock: bool) -> Select[Any]:
    """The products that share a supplier item or a barcode with the given ones: built once, after mapping."""
    keys = product_keys.c
    ids = select(keys.product_id).where(
        ((keys.kind == "item") & keys.key.in_(bindparam("items", expanding=True)))
        | ((keys.kind == "barcode") & keys.key.in_(bindparam("codes", expanding=True)))
    )
    query = select(Product).where(MAPPED[Product].c.id.in_(ids)).order_by(MAPPED[Product].c.id)
    return locked(query) if lock else query


class SqlCarts(SqlRepository[Cart]):
    async def ensure(self, supplier_id: int, warehouse_id: int) -> None:
        await stock_store.ensure_cart(self.session, supplier_id, warehouse_id)


class SqlSeenEvents(SqlRepository[SeenEvent]):
    async def first_time(self, event: SeenEvent) -> bool:
        return await stock_store.note_seen(self.session, event)


class SqlStock(SqlRepository[StockLevel]):
    async def raise_stock(self, warehouse_id: int, product_id: int, quantity: int) -> bool:
        return await stock_store.raise_stock(self.session, warehouse_id, product_id, quantity)
