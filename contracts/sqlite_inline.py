"""SQLite on the event loop's own thread: aiosqlite's API, without its thread hop per call.

aiosqlite runs every call on a worker thread and wakes the loop for each answer, which costs far
more than the call itself on a local file. Here each call runs at once, in the loop's thread.
SQLite's own busy wait would then block the loop while another connection holds the write lock,
so it is off (``timeout=0``) and a busy database is waited for here instead, asleep, up to the
connection's ``timeout``. SQLAlchemy's aiosqlite dialect takes this as its DBAPI (``module=``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import types
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

FIRST_PAUSE_S = 0.0005
LONGEST_PAUSE_S = 0.02


class _Inline:
    """aiosqlite's queue to its thread, replaced by a call on the spot."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed over to whoever awaits, as aiosqlite's thread does
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread; a busy database is awaited."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_s: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Inline()  # type: ignore[assignment]
        self._busy_timeout_s = busy_timeout_s

    def __await__(self) -> Any:
        return self._connect().__await__()  # no thread to start

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + self._busy_timeout_s
        pause = FIRST_PAUSE_S
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _busy(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)  # the connection that holds the lock gets the loop meanwhile
            pause = min(pause * 2, LONGEST_PAUSE_S)

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE on the driver itself: the write lock taken, or awaited while busy."""
        await self._execute(self._conn.execute, "BEGIN IMMEDIATE")


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "database is locked" in str(error)


def connect(database: str, timeout: float = 5.0, **kwargs: Any) -> InlineConnection:
    """As ``aiosqlite.connect``; ``timeout`` is how long a busy database is awaited."""
    kwargs["check_same_thread"] = False  # a connection the pool drops may be finalized elsewhere

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=0, **kwargs)

    return InlineConnection(connector, timeout)


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI for ``create_async_engine(..., module=inline_dbapi())`` on an aiosqlite URL."""
    driver = types.ModuleType("sqlite_inline_driver")
    for name in dir(aiosqlite):
        if not name.startswith("_") or name == "__version__":
            setattr(driver, name, getattr(aiosqlite, name))
    driver.connect = connect  # type: ignore[attr-defined]
    driver.Connection = InlineConnection  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(driver, sqlite3)
