"""SQLite in the loop's thread: a writer waits for the write lock asleep, so the holder still gets the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from contracts.sqlite_inline import connect


async def test_a_second_writer_waits_asleep_until_the_first_commits(tmp_path: Path) -> None:
    first = await connect(str(tmp_path / "db.sqlite"), timeout=30, isolation_level=None)
    second = await connect(str(tmp_path / "db.sqlite"), timeout=30, isolation_level=None)
    try:
        await first.begin_immediate()
        waiting = asyncio.create_task(second.begin_immediate())
        for _ in range(20):  # the waiter sleeps between tries: the loop runs other tasks meanwhile
            await asyncio.sleep(0)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, timeout=10)
        await second.commit()
    finally:
        await first.close()
        await second.close()


async def test_a_writer_gives_up_after_its_timeout(tmp_path: Path) -> None:
    first = await connect(str(tmp_path / "db.sqlite"), timeout=30, isolation_level=None)
    second = await connect(str(tmp_path / "db.sqlite"), timeout=0.01, isolation_level=None)
    try:
        await first.begin_immediate()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await second.begin_immediate()
    finally:
        await first.commit()
        await first.close()
        await second.close()
