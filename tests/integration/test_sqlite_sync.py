"""SQLite on the synchronous engine: a writer that finds the lock taken waits asleep, so the holder still
gets the loop, and gives up after its timeout; nothing of a refused attempt is kept."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select
from sqlalchemy.exc import OperationalError

from contracts.sqlite_sync import SyncEngine, sqlite_engine

metadata = MetaData()
rows = Table("rows", metadata, Column("id", Integer, primary_key=True))


async def engine_at(path: Path, timeout_s: float) -> SyncEngine:
    engine = sqlite_engine(f"sqlite+aiosqlite:///{path}", timeout_s)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


async def test_a_second_writer_waits_asleep_until_the_first_commits(tmp_path: Path) -> None:
    engine = await engine_at(tmp_path / "db.sqlite", timeout_s=30)
    opened = AsyncExitStack()
    first = await opened.enter_async_context(engine.connect())
    second = await opened.enter_async_context(engine.connect())
    try:
        await first.execute(rows.insert().values(id=1))  # BEGIN IMMEDIATE: the first holds the write lock

        async def write() -> None:
            await second.execute(rows.insert().values(id=2))
            await second.commit()

        waiting = asyncio.create_task(write())
        for _ in range(20):  # the waiter sleeps between tries: the loop runs other tasks meanwhile
            await asyncio.sleep(0)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, timeout=10)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(rows)) == 2
    finally:
        await opened.aclose()
        await engine.dispose()


async def test_a_transaction_that_begins_with_a_read_holds_the_write_lock(tmp_path: Path) -> None:
    """A read-check-write cannot interleave with another writer: the read already took the lock."""
    holder = await engine_at(tmp_path / "db.sqlite", timeout_s=30)
    impatient = sqlite_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", 0.01)
    opened = AsyncExitStack()
    reader = await opened.enter_async_context(holder.connect())
    try:
        assert await reader.scalar(select(func.count()).select_from(rows)) == 0
        with pytest.raises(OperationalError, match="locked"):
            async with impatient.begin() as conn:
                await conn.execute(rows.insert().values(id=2))
    finally:
        await opened.aclose()
        await holder.dispose()
        await impatient.dispose()


async def test_a_writer_gives_up_after_its_timeout_and_keeps_nothing(tmp_path: Path) -> None:
    holder = await engine_at(tmp_path / "db.sqlite", timeout_s=30)
    impatient = sqlite_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", 0.01)
    opened = AsyncExitStack()
    held = await opened.enter_async_context(holder.connect())
    try:
        await held.execute(rows.insert().values(id=1))
        with pytest.raises(OperationalError, match="locked"):
            async with impatient.begin() as conn:
                await conn.execute(rows.insert().values(id=2))
        await held.commit()
        async with impatient.connect() as conn:
            assert (await conn.execute(select(rows.c.id))).scalars().all() == [1]
    finally:
        await opened.aclose()
        await holder.dispose()
        await impatient.dispose()


async def test_a_statement_inside_a_transaction_is_not_tried_again(tmp_path: Path) -> None:
    """Only a transaction's first statement can find the lock taken; a later failure is the caller's."""
    engine = await engine_at(tmp_path / "db.sqlite", timeout_s=30)
    try:
        async with engine.connect() as conn:
            await conn.execute(rows.insert().values(id=1))
            with pytest.raises(Exception, match="UNIQUE"):
                await conn.execute(rows.insert().values(id=1))
    finally:
        await engine.dispose()
