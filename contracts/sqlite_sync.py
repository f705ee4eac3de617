"""SQLite under the apps' asyncio code, on SQLAlchemy's synchronous engine: no async layer per statement.

A statement on a local SQLite file takes microseconds. The asyncio path over it took ten times that:
each call a new greenlet, each driver call a switch back to the loop and a future, and the async
connection's proxy around it all. The database never makes the loop wait (sqlite3 answers at
once), so here the apps' ``await connection.execute(...)`` runs the synchronous call on the spot.

One thing does wait: a write lock another connection holds, in this process or another. That wait
must not block the loop, because the holder may be a task of this same loop. Connections are made
with ``timeout=0``: a busy database fails at once, and the first statement of a transaction (the
only one that takes the lock: the portal begins every transaction IMMEDIATE, the simulator writes
one at a time) is tried again after an asyncio sleep, until the engine's busy timeout has passed.

The classes below offer only the awaitable methods the apps call on SQLAlchemy's ``AsyncEngine`` and
``AsyncConnection``; PostgreSQL keeps those (asyncpg does wait on the network).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from contracts.databases import sqlite_pragmas

T = TypeVar("T")
FIRST_PAUSE_S = 0.0005
LONGEST_PAUSE_S = 0.02


def busy(error: OperationalError) -> bool:
    """SQLite refused because another connection holds the lock (SQLITE_BUSY)."""
    cause = error.orig
    if not isinstance(cause, sqlite3.OperationalError):
        return False
    return getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "database is locked" in str(cause)


async def when_free(call: Callable[[], T], starts_transaction: bool, timeout_s: float, undo: Callable[[], None]) -> T:
    """``call()``; when it starts a transaction and finds the database busy, ``undo()`` and try again
    asleep, so that the task holding the lock gets the loop, until ``timeout_s`` has passed."""
    if not starts_transaction:
        return call()
    deadline = time.monotonic() + timeout_s
    pause = FIRST_PAUSE_S
    while True:
        try:
            return call()
        except OperationalError as error:  # SQLAlchemy's, wrapping the driver's (the dialect's BEGIN IMMEDIATE too)
            if not busy(error) or time.monotonic() + pause > deadline:
                raise
        undo()
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_S)


class SyncConnection:
    """An ``AsyncConnection``'s awaitable methods, each run at once on a synchronous connection."""

    def __init__(self, connection: Connection, timeout_s: float) -> None:
        self.sync_connection, self._timeout_s = connection, timeout_s

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, **options: Any) -> Any:
        return await self._run(lambda: self.sync_connection.execute(statement, parameters, **options))

    async def scalar(self, statement: Any, parameters: Any = None, **options: Any) -> Any:
        return await self._run(lambda: self.sync_connection.scalar(statement, parameters, **options))

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        return await self._run(lambda: self.sync_connection.exec_driver_sql(statement, parameters))

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self._run(lambda: fn(self.sync_connection, *args, **kwargs))

    async def commit(self) -> None:
        self.sync_connection.commit()  # the lock was taken at the transaction's start: never busy here

    async def _run(self, call: Callable[[], T]) -> T:
        fresh = not self.sync_connection.in_transaction()
        return await when_free(call, fresh, self._timeout_s, self.sync_connection.rollback)


class SyncEngine:
    """An ``AsyncEngine``'s awaitable methods over a synchronous SQLite engine."""

    def __init__(self, engine: Engine, timeout_s: float) -> None:
        self.sync_engine, self.timeout_s = engine, timeout_s

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[SyncConnection]:
        with self.sync_engine.connect() as connection:
            yield SyncConnection(connection, self.timeout_s)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SyncConnection]:
        """A transaction that commits when the block ends and rolls back when it raises."""
        with self.sync_engine.connect() as connection:
            await when_free(connection.begin, True, self.timeout_s, connection.rollback)
            yield SyncConnection(connection, self.timeout_s)
            connection.commit()

    async def dispose(self) -> None:
        self.sync_engine.dispose()


def sqlite_engine(url: str, timeout_s: float, **options: Any) -> SyncEngine:
    """The engine for an SQLite URL (``sqlite+aiosqlite://...`` as the apps spell it): the standard
    library's driver, connections that never block on a lock, WAL and foreign keys on each.

    The driver's own transaction handling is off, and every transaction begins IMMEDIATE: it holds
    the write lock from its first statement, so a read-check-write cannot interleave with another
    writer, and the only statement that can find the database busy is the first.
    An in-memory database lives in its one connection, which every user of the engine shares.
    """
    path = url.split("://", 1)[1]
    if path in ("", "/:memory:"):
        options = {"poolclass": StaticPool, **{k: v for k, v in options.items() if not k.startswith("pool_size")}}
    else:
        # Never wait for a pooled connection: that wait would block the loop. A connection more is cheap.
        options = {"poolclass": QueuePool, **options, "max_overflow": -1}
    connect_args = {"timeout": 0, "check_same_thread": False, "isolation_level": None}
    engine = create_engine("sqlite+immediate://" + path, hide_parameters=True, connect_args=connect_args, **options)
    event.listen(engine, "connect", sqlite_pragmas)  # the pool's event: statements do not see it
    return SyncEngine(engine, timeout_s)


class ImmediateDialect(SQLiteDialect_pysqlite):
    """The standard library's driver, with every transaction begun IMMEDIATE by the dialect itself.

    SQLAlchemy's recipe listens for the engine's "begin" event instead; but one listener on a
    connection event sends every statement of the engine through the event machinery, which cost
    a sixth of a unit of work that reads one row.
    """

    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        """Straight to the driver: the write lock taken, or SQLITE_BUSY for the caller to wait on."""
        dbapi_connection.execute("BEGIN IMMEDIATE")


registry.register("sqlite.immediate", __name__, "ImmediateDialect")
