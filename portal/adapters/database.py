"""The portal's engine and sessions: an SQLite file by default, PostgreSQL by URL, the same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from contracts.databases import async_url, quiet_driver_logs, sqlite_pragmas
from contracts.sqlite_inline import InlineConnection, inline_dbapi
from portal.adapters import mapping, orm


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    options: dict[str, Any] = {"hide_parameters": True}  # a failed statement must not log a password
    if url.startswith("sqlite"):
        # The driver's own transaction handling is off: every transaction begins IMMEDIATE, so
        # actions on SQLite run one after another and a read-check-write cannot interleave.
        options["connect_args"] = {"timeout": 30, "isolation_level": None}
        options["module"] = inline_dbapi()  # each statement in the loop's thread, not a thread hop away
    engine = create_async_engine(url, **options)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        quiet_driver_logs()
    return engine


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    mapping.start_mappers()
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(orm.metadata.create_all)


# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race and was undone.
LOST_RACE = frozenset({"40P01", "40001"})


def lost_race(error: DBAPIError) -> bool:
    """The database undid the transaction because a concurrent one won; SQLite never says so."""
    return getattr(error.orig, "sqlstate", None) in LOST_RACE


def _begin_immediate(connection: Any) -> None:
    driver = connection.connection.driver_connection
    if isinstance(driver, InlineConnection):  # straight to the driver: a statement's whole path is most of its cost
        await_only(driver.begin_immediate())
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
