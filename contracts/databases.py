"""Database URLs as both sides accept them: a path or a plain URL gets its driver."""

from __future__ import annotations

from typing import Any

DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Each new SQLite connection: WAL with synchronous=NORMAL (durable at each checkpoint and about
    four times the insert rate) and foreign keys enforced."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def async_url(url: str) -> str:
    """``sim.db`` or ``sqlite:///x.db`` or ``postgresql://...`` as a URL with an asyncio driver."""
    if "://" not in url:
        return f"sqlite+aiosqlite:///{url}"
    scheme, rest = url.split("://", 1)
    return f"{DRIVERS.get(scheme, scheme)}://{rest}"
