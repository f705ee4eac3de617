"""One action's rows on one connection: each row loaded once as its entity, and the changes a flush writes.

The portal's entities are plain dataclasses with immutable values (tuples of frozen value objects,
strings, enums, decimals), so a change is found by comparing an entity's values with the row it was
loaded as; the mapped classes only say which entities were set at all (mapping.watch_changes), so
that a flush compares those alone. Flushing goes table by table in the order foreign keys need,
the changed columns of changed rows and then the new rows, and deletes last, in reverse order; each
statement is built once per table and set of columns. SQLAlchemy's ORM did the same through its session, which on the portal's
hot paths cost more CPU than the statements it ran: without it, bench/bench_portal.py's 1,000 stock
orders take two thirds of the time.

The rules the ORM's session enforced here stay: a read first writes what is pending (autoflush),
a row read twice in a transaction is the same object, and a read with ``lock=True`` refreshes it.
One rule is the portal's own: an action changes only rows it read with a lock or inserted itself
(UnlockedChange otherwise), because on PostgreSQL a change to a row read without FOR UPDATE loses
a race that SQLite, one writer at a time, forgives.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.sqlite_sync import SyncConnection
from portal.adapters.mapping import SHAPES, WATCHED, Shape, keys_of
from portal.adapters.tables import product_keys
from portal.domain.catalog import Product
from portal.domain.errors import Duplicate
from portal.service_layer.unit_of_work import TOPICS

DbConnection = AsyncConnection | SyncConnection  # the same awaitable methods: PostgreSQL's and SQLite's
Key = tuple[type, int]
CONFLICT = "a concurrent change got there first; reload and try again"
KEY = "key_id"  # the parameter an UPDATE or DELETE finds its row by


class UnlockedChange(RuntimeError):
    """A service changed a stored row it had not loaded with ``lock=True``: on PostgreSQL a race would lose."""


class IdentityMap:
    """The entities one transaction loaded or added, and what it changed, until it commits or ends."""

    def __init__(self, connection: DbConnection, noting: bool) -> None:
        self.connection = connection
        self._known: dict[Key, Any] = {}
        self._loaded: dict[Key, tuple[Any, ...]] = {}  # each known entity's values as last read or written
        self._keys: dict[int, Key] = {}  # each known entity's key, by id()
        self._set: list[Any] = []  # the known entities whose attributes were set since the last flush
        self._new: dict[int, Any] = {}  # the entities added since the last flush, by id(), in the order added
        self._removed: dict[Key, Any] = {}
        self._held: set[Key] = set()  # loaded with a lock, or inserted here: the rows this action may change
        # What flushes wrote, by object, for the events a commit announces: only while someone listens.
        self.notes: tuple[dict[int, Any], dict[int, Any]] | None = ({}, {}) if noting else None

    def add(self, entity: Any) -> None:
        """A new entity, inserted at the next flush; an entity already known or added is left as it is."""
        ident = entity.__dict__.get("id")
        if ident is not None and (type(entity), ident) in self._known:
            return
        self._new.setdefault(id(entity), entity)

    def remove(self, entity: Any) -> None:
        """Delete the entity's row at the next flush; an entity not inserted yet is just forgotten."""
        if self._new.pop(id(entity), None) is not None:
            return
        if entity.id is not None:
            self._removed[(type(entity), entity.id)] = entity

    async def select(self, shape: Shape, statement: Any, parameters: dict[str, Any], lock: bool) -> list[Any]:
        """The entities a SELECT of ``shape``'s whole rows finds, after writing what is pending.

        A row already known is its known entity: refreshed from the row when ``lock``, as it is then
        read under the lock, and left as it is otherwise.
        """
        await self.flush()
        rows = (await self.connection.execute(statement, parameters)).all()
        return self._load(shape, rows, lock)

    async def scalar(self, statement: Any) -> Any:
        await self.flush()
        return await self.connection.scalar(statement)

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """A statement of the action's own (an upsert, say), after writing what is pending."""
        await self.flush()
        return await self.connection.execute(statement, parameters)

    def close(self) -> None:
        """Stop watching the known entities: they stay as they are, detached from any transaction."""
        for ident in self._keys:
            WATCHED.pop(ident, None)
        self._keys.clear()

    def _know(self, key: Key, entity: Any, values: tuple[Any, ...]) -> None:
        self._known[key], self._loaded[key], self._keys[id(entity)] = entity, values, key
        WATCHED[id(entity)] = self._set

    def _load(self, shape: Shape, rows: Sequence[Row[Any]], lock: bool) -> list[Any]:
        known, loaded, cls = self._known, self._loaded, shape.cls
        found = []
        for row in rows:
            key = (cls, row[0])
            entity = known.get(key)
            if entity is None:
                entity = shape.build(row)
                self._know(key, entity, tuple(row))
            elif lock:
                entity.__dict__.update(zip(shape.names, row, strict=True))
                loaded[key] = tuple(row)
            if lock:
                self._held.add(key)
            found.append(entity)
        return found

    def _changed(self) -> list[tuple[Key, Any, tuple[Any, ...]]]:
        """Each known entity set since the last flush whose values now differ from its row, with them."""
        changed, seen = [], set()
        for entity in self._set:
            key = self._keys.get(id(entity))
            if key is None or key in seen or key in self._removed:
                continue
            seen.add(key)
            now = SHAPES[key[0]].row_of(entity)
            if now != self._loaded[key]:
                changed.append((key, entity, now))
        return changed

    async def flush(self) -> None:
        """Write what changed since the last flush: inserts and updates table by table, then deletes."""
        changed = self._changed()
        self._set.clear()
        if not (changed or self._new or self._removed):
            return
        for key, entity, _ in changed:
            if key not in self._held:
                raise UnlockedChange(f"{type(entity).__name__} {key[1]} changed without lock=True")
        new, self._new = list(self._new.values()), {}
        shapes = sorted({SHAPES[key[0]] for key, _, _ in changed} | {SHAPES[type(e)] for e in new}, key=_rank)
        indexed: list[Product] = []
        for shape in shapes:
            for key, entity, now in sorted((c for c in changed if c[0][0] is shape.cls), key=lambda c: c[0][1]):
                await self._update(shape, key, now)
                self._note(entity)
            added = [entity for entity in new if type(entity) is shape.cls]
            await self._insert(shape, added)
            for entity in added:
                self._note(entity)
            if shape.cls is Product:
                indexed += [entity for key, entity, _ in changed if key[0] is Product] + added
        removed, self._removed = self._removed, {}
        for key, entity in sorted(removed.items(), key=lambda item: -SHAPES[item[0][0]].rank):
            await self.connection.execute(_deleting(SHAPES[key[0]].table), {KEY: key[1]})
            known = self._known.pop(key, None)
            if known is not None:
                del self._loaded[key], self._keys[id(known)]
                WATCHED.pop(id(known), None)
            self._note(entity, removed=True)
        if indexed:
            await self._index(indexed)

    async def _update(self, shape: Shape, key: Key, now: tuple[Any, ...]) -> None:
        before = self._loaded[key]
        columns = tuple(name for name, old, value in zip(shape.names, before, now, strict=True) if old != value)
        values = {name: value for name, old, value in zip(shape.names, before, now, strict=True) if old != value}
        result = await self.connection.execute(_updating(shape.table, columns), {**values, KEY: key[1]})
        if result.rowcount != 1:  # gone since it was read: on PostgreSQL only a row read without a lock can be
            raise Duplicate(CONFLICT)
        self._loaded[key] = now

    async def _insert(self, shape: Shape, added: list[Any]) -> None:
        if not added:
            return
        rows = [dict(zip(shape.names, shape.row_of(entity), strict=True)) for entity in added]
        if len(added) > 1 and all(row["id"] is None for row in rows):
            # One statement for them all, its ids returned in the rows' order.
            ids = (await self.connection.execute(_inserting_many(shape.table), [_without_id(r) for r in rows])).all()
            for entity, (ident,) in zip(added, ids, strict=True):
                entity.id = ident
        else:
            for entity, row in zip(added, rows, strict=True):
                result: Any = await self.connection.execute(
                    _inserting(shape.table), row if row["id"] else _without_id(row)
                )
                entity.id = result.inserted_primary_key[0]
        for entity in added:
            key = (shape.cls, entity.id)
            self._know(key, entity, shape.row_of(entity))
            self._held.add(key)  # a row the action inserted is its own until commit: no one else sees it

    async def _index(self, changed: list[Product]) -> None:
        """Keep the keys products are matched by beside the products: their items and barcodes."""
        ids = [product.id for product in changed]
        await self.connection.execute(product_keys.delete().where(product_keys.c.product_id.in_(ids)))
        rows = [key for product in changed for key in keys_of(product)]
        if rows:
            await self.connection.execute(product_keys.insert(), rows)

    def _note(self, entity: Any, removed: bool = False) -> None:
        if self.notes is None or type(entity) not in TOPICS:
            return
        changes, gone = self.notes
        if removed:
            changes.pop(id(entity), None)
            gone[id(entity)] = entity
        else:
            changes[id(entity)] = entity


def _rank(shape: Shape) -> int:
    return shape.rank


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "id"}


@cache
def _updating(table: Table, columns: tuple[str, ...]) -> Any:
    """UPDATE these columns of one row, found by its id: built once per table and set of columns."""
    return update(table).where(table.c.id == bindparam(KEY)).values({name: bindparam(name) for name in columns})


@cache
def _deleting(table: Table) -> Any:
    return delete(table).where(table.c.id == bindparam(KEY))


@cache
def _inserting(table: Table) -> Any:
    return insert(table)


@cache
def _inserting_many(table: Table) -> Any:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)
