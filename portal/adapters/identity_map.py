"""One action's rows on one connection: each row loaded once as its entity, and the changes a flush writes.

The portal's entities are plain dataclasses with immutable values (tuples of frozen value objects,
strings, enums, decimals), so a change is found by comparing an entity's values with the row it was
loaded as; the mapped classes only say which entities were set at all (mapping.watch_changes), so
that a flush compares those alone. Flushing goes table by table in the order foreign keys need,
the changed columns of changed rows and then the new rows, and deletes last, in reverse order; each
statement is built once per table and set of columns. SQLAlchemy's ORM did the same through its
session, which on the portal's hot paths cost more CPU than the statements it ran: without it,
bench/bench_portal.py's 1,000 stock orders take two thirds of the time.

The rules the ORM's session enforced here stay: a read first writes what is pending (autoflush),
a row read twice in a transaction is the same object, and a read with ``lock=True`` refreshes it.
One rule is the portal's own: an action changes only rows it read with a lock or inserted itself
(UnlockedChange otherwise), because on PostgreSQL a change to a row read without FOR UPDATE loses
a race that SQLite, one writer at a time, forgives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, delete, insert, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.sqlite_sync import SyncConnection
from portal.adapters.mapping import SHAPES, WATCHED, Shape, keys_of
from portal.adapters.tables import product_keys
from portal.domain.catalog import Product
from portal.domain.errors import Duplicate
from portal.service_layer.unit_of_work import TOPICS

T = TypeVar("T")
DbConnection = AsyncConnection | SyncConnection  # the same awaitable methods: PostgreSQL's and SQLite's
Key = tuple[type, int]
CONFLICT = "a concurrent change got there first; reload and try again"
KEY = "key_id"  # the parameter an UPDATE or DELETE finds its row by


class UnlockedChange(RuntimeError):
    """A service changed a stored row it had not loaded with ``lock=True``: on PostgreSQL a race would lose."""


class ForeignEntity(RuntimeError):
    """An entity handed to a unit of work that did not load it: a service's mistake, not the user's."""


class FailedTransaction(RuntimeError):
    """The unit of work is used after one of its statements failed: nothing of it can be kept any more."""


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
        self._failed: BaseException | None = None  # why a statement failed: the transaction is lost with it

    def add(self, entity: Any) -> None:
        """A new entity, inserted at the next flush; one added already, or known here, is left as it is.

        An entity removed here and added again is kept. One with an id that this transaction did not
        load is refused: it belongs to another transaction, and would be inserted twice.
        """
        ident = entity.__dict__.get("id")
        if ident is None:
            self._new.setdefault(id(entity), entity)
            return
        key = (type(entity), ident)
        if self._known.get(key) is not entity:
            raise ForeignEntity(f"{type(entity).__name__} {ident} was not loaded in this unit of work")
        if self._removed.get(key) is entity:
            del self._removed[key]

    def remove(self, entity: Any) -> None:
        """Delete the entity's row at the next flush; an entity not inserted yet is just forgotten."""
        if self._new.pop(id(entity), None) is not None:
            return
        key = (type(entity), entity.id)
        if self._known.get(key) is not entity:
            raise ForeignEntity(f"{type(entity).__name__} {entity.id} was not loaded in this unit of work")
        self._removed[key] = entity

    async def select(
        self, shape: Shape, statement: Any, parameters: dict[str, Any], lock: bool, first: bool = False
    ) -> list[Any]:
        """The entities a SELECT of ``shape``'s whole rows finds (only the first with ``first``), after
        writing what is pending.

        A row already known is its known entity: refreshed from the row when ``lock``, as it is then
        read under the lock, and left as it is otherwise.
        """
        result = await self.execute(statement, parameters)
        if not first:
            return self._load(shape, result.all(), lock)
        row = result.first()
        return self._load(shape, [] if row is None else [row], lock)

    async def scalar(self, statement: Any) -> Any:
        return await self._run(lambda: self.connection.scalar(statement))

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """A statement of the action's own (an upsert, say), after writing what is pending."""
        return await self._run(lambda: self.connection.execute(statement, parameters))

    async def exec_driver_sql(self, statement: str, parameters: Any) -> Any:
        return await self._run(lambda: self.connection.exec_driver_sql(statement, parameters))

    async def commit(self) -> None:
        await self._run(self.connection.commit)

    async def _run(self, statement: Callable[[], Awaitable[T]]) -> T:
        """Write what is pending, then run ``statement``; a failure of either ends the transaction.

        On PostgreSQL a failed statement aborts the transaction: every later one fails, and COMMIT
        rolls back without an error. So after any failure, on either database, every later
        statement or commit of this unit of work raises FailedTransaction, and the caller's exit
        rolls it all back.
        """
        await self.flush()
        try:
            return await statement()
        except BaseException as exc:
            self._failed = exc
            raise

    def close(self) -> None:
        """Stop watching the known entities: they stay as they are, detached from any transaction."""
        for entity in self._known.values():
            self._unwatch(entity)
        self._keys.clear()

    def _unwatch(self, entity: Any) -> None:
        if WATCHED.get(id(entity)) is self._set:  # never another map's entry
            del WATCHED[id(entity)]

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
        """Write what changed since the last flush, table by table, and deletes last.

        Duplicate when a row breaks a uniqueness rule, or a row to update is gone; a failed flush
        ends the transaction, as any failed statement does (see _run).
        """
        if self._failed is not None:
            raise FailedTransaction("a statement of this unit of work failed; nothing of it is kept") from self._failed
        changed = self._changed()
        if not (changed or self._new or self._removed):
            self._set.clear()
            return
        try:
            await self._write(changed)
        except BaseException as exc:
            self._failed = exc
            if isinstance(exc, IntegrityError):
                raise Duplicate(CONFLICT) from None
            raise

    async def _write(self, changed: list[tuple[Key, Any, tuple[Any, ...]]]) -> None:
        for key, entity, _ in changed:
            if key not in self._held:
                raise UnlockedChange(f"{type(entity).__name__} {key[1]} changed without lock=True")
        new, removed = list(self._new.values()), self._removed
        self._set.clear()
        self._new, self._removed = {}, {}
        shapes = sorted({SHAPES[key[0]] for key, _, _ in changed} | {SHAPES[type(e)] for e in new}, key=_rank)
        for shape in shapes:
            for key, _, now in sorted((c for c in changed if c[0][0] is shape.cls), key=lambda c: c[0][1]):
                await self._update(shape, key, now)
            await self._insert(shape, [entity for entity in new if type(entity) is shape.cls])
        for key, entity in sorted(removed.items(), key=lambda item: -SHAPES[item[0][0]].rank):
            await self.connection.execute(_deleting(SHAPES[key[0]].table), {KEY: key[1]})
            del self._known[key], self._loaded[key], self._keys[id(entity)]
            self._unwatch(entity)
        products = [e for e in new if type(e) is Product] + [e for key, e, _ in changed if key[0] is Product]
        if products:
            await self._index(products)
        # Noted once all is written, new rows first, as a commit announces them.
        for entity in [*new, *(entity for _, entity, _ in changed)]:
            self._note(entity)
        for entity in removed.values():
            self._note(entity, removed=True)

    async def _update(self, shape: Shape, key: Key, now: tuple[Any, ...]) -> None:
        before = self._loaded[key]
        values = {name: value for name, old, value in zip(shape.names, before, now, strict=True) if old != value}
        result = await self.connection.execute(_updating(shape.table, tuple(values)), {**values, KEY: key[1]})
        if result.rowcount != 1:  # gone since it was read: on PostgreSQL only a row read without a lock can be
            raise Duplicate(CONFLICT)
        self._loaded[key] = now

    async def _insert(self, shape: Shape, added: list[Any]) -> None:
        if not added:
            return
        # Every column but the id (the first, None until the database gives it).
        rows = [dict(zip(shape.names[1:], shape.row_of(entity)[1:], strict=True)) for entity in added]
        if len(rows) == 1:
            result: Any = await self.connection.execute(_inserting(shape.table), rows[0])
            added[0].id = result.inserted_primary_key[0]
        else:  # one statement for them all, its ids returned in the rows' order
            ids = (await self.connection.execute(_inserting_many(shape.table), rows)).all()
            for entity, (ident,) in zip(added, ids, strict=True):
                entity.id = ident
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
