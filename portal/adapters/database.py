"""The portal's engine: an SQLite file by default, PostgreSQL by URL, the same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from contracts.databases import async_url
from contracts.sqlite_sync import SyncEngine, sqlite_engine
from portal.adapters import tables

BUSY_TIMEOUT_S = 30.0  # how long an action waits for SQLite's write lock before it fails
Engine = AsyncEngine | SyncEngine  # the same awaitable methods: PostgreSQL's and SQLite's


def make_engine(url: str) -> Engine:
    url = async_url(url)
    if not url.startswith("sqlite"):
        return create_async_engine(url, hide_parameters=True)  # a failed statement must not log a password
    return sqlite_engine(url, BUSY_TIMEOUT_S)  # every transaction begins IMMEDIATE: one action at a time


async def create_schema(engine: Engine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all)


# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race and was undone.
LOST_RACE = frozenset({"40P01", "40001"})


def lost_race(error: DBAPIError) -> bool:
    """The database undid the transaction because a concurrent one won; SQLite never says so."""
    return getattr(error.orig, "sqlstate", None) in LOST_RACE


def upsert_into(dialect: str, table: Table) -> Any:
    """The dialect's INSERT into ``table``, which knows ON CONFLICT: PostgreSQL's or SQLite's."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
