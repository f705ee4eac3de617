"""The portal's engine and sessions: an SQLite file by default, PostgreSQL by URL, the same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from contracts.databases import async_url
from portal.adapters import orm


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    options: dict[str, Any] = {"hide_parameters": True}  # a failed statement must not log a password
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}  # wait for the writer instead of failing at once
    engine = create_async_engine(url, **options)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    orm.start_mappers()
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(orm.metadata.create_all)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
