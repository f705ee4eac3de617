"""Several simulator processes on one PostgreSQL database: one scheduler at a time, and news between them.

Every worker serves the API from the shared tables. What must happen once (order events, catalog
changes, webhook deliveries, operator transitions) runs only while a worker holds one PostgreSQL
advisory lock; the holder first reads the clock and the counters back from the database. A worker
that dies drops its connection, and PostgreSQL frees its lock at once: the next worker to ask
takes over, and the dead worker's uncommitted work is rolled back and done again.

What a worker keeps in memory (the catalog, webhook registrations, tokens, fault rules, the
virtual clock) follows the others through NOTIFY on one channel.

A worker that loses its lock connection (or its listening one) while it lives exits at once. Had
it held the lock, PostgreSQL freed it, and another worker may schedule already: carrying on would
make two schedulers, and missing news would leave its memory stale. Exiting makes it a worker
that died, which the parent replaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import make_url, text

from supplier_sim.db import Conn

log = logging.getLogger("supplier_sim.cluster")
CHANNEL = "orderportal_sim"
SCHEDULER_LOCK = 0x53494D31  # "SIM1": the key of the one advisory lock
ORDER_IDS = "sim_order_seq"  # the PostgreSQL sequence order numbers come from
ID_BLOCK = 32  # order numbers a worker takes at once: one round trip per block, not per order
LOST_EXIT = 75  # EX_TEMPFAIL: the exit code of a worker that lost a connection to PostgreSQL

Listener = Callable[[str, str], Awaitable[None]]


def plain_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def application_name(pid: int) -> str:
    """How a worker's connections are named in pg_stat_activity, so an operator (or a test) can find it."""
    return f"orderportal-sim worker {pid}"


class Cluster:
    """One worker's part: the scheduler lock, the news it sends and hears, and its block of order numbers."""

    # A worker process (supplier_sim.workers) exits when it loses a connection; a simulator that shares
    # the database from within another program (a test) only logs it: exiting would end that program.
    exit_on_loss = False

    def __init__(self, url: str) -> None:
        self.dsn = plain_dsn(url)
        self.pid = os.getpid()
        self._lock_conn: asyncpg.Connection | None = None
        self._listen_conn: asyncpg.Connection | None = None
        self._local = asyncio.Lock()  # one scheduler per process; the advisory lock is per connection
        self._ids: list[int] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: Listener | None = None
        self._closing = False

    async def start(self, listener: Listener) -> None:
        self._closing = False
        settings = {"application_name": application_name(self.pid)}
        self._lock_conn = await asyncpg.connect(self.dsn, server_settings=settings)
        self._listen_conn = await asyncpg.connect(self.dsn, server_settings=settings)
        self._listener = listener
        await self._listen_conn.add_listener(CHANNEL, self._heard)
        for conn in (self._lock_conn, self._listen_conn):
            conn.add_termination_listener(self._lost)

    def _lost(self, conn: asyncpg.Connection) -> None:
        """A connection closed that this worker did not close: stop before anything else commits."""
        if self._closing:
            return
        which = "lock" if conn is self._lock_conn else "listening"
        if not self.exit_on_loss:
            log.error("worker %s lost its %s connection to PostgreSQL", self.pid, which)
            return
        log.critical("worker %s lost its %s connection to PostgreSQL; it exits to be replaced", self.pid, which)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(LOST_EXIT)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        for conn in (self._listen_conn, self._lock_conn):
            if conn is not None:
                await conn.close()
        self._listen_conn = self._lock_conn = None

    @contextlib.asynccontextmanager
    async def exclusive(self, wait: bool = True) -> AsyncIterator[bool]:
        """Hold the scheduler lock for the block; with ``wait=False``, yield False at once if another holds it."""
        if not wait and self._local.locked():
            yield False
            return
        async with self._local:
            conn = self._lock_conn
            assert conn is not None, "the cluster is not started"
            if wait:
                await conn.execute("SELECT pg_advisory_lock($1)", SCHEDULER_LOCK)
            elif not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SCHEDULER_LOCK):
                yield False
                return
            try:
                yield True
            finally:
                with contextlib.suppress(asyncpg.PostgresError, OSError):
                    await conn.execute("SELECT pg_advisory_unlock($1)", SCHEDULER_LOCK)

    async def notify(self, conn: Conn, topic: str, arg: str = "") -> None:
        """Tell the other workers, when ``conn``'s transaction commits."""
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": f"{self.pid} {topic} {arg}"},
        )

    def _heard(self, _conn: Any, _backend: int, _channel: str, payload: str) -> None:
        sender, topic, arg = [*payload.split(" ", 2), "", ""][:3]
        if sender == str(self.pid) or self._listener is None:
            return
        task = asyncio.create_task(self._apply(topic, arg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply(self, topic: str, arg: str) -> None:
        assert self._listener is not None
        try:
            await self._listener(topic, arg)
        except Exception:
            log.exception("worker %s: the news %r from another worker could not be applied", self.pid, topic)

    def take_id(self) -> int | None:
        """An order number no other worker will use, or None when this worker's block is used up."""
        return self._ids.pop() if self._ids else None

    async def refill_ids(self, conn: Conn) -> None:
        """Take the next block of order numbers from the shared sequence."""
        rows = await conn.execute(text(f"SELECT nextval('{ORDER_IDS}') FROM generate_series(1, {ID_BLOCK})"))
        self._ids = sorted([*self._ids, *(n for (n,) in rows)], reverse=True)

    def forget_ids(self) -> None:
        """After a reset the sequence starts again: numbers taken before may be used twice."""
        self._ids.clear()


async def create_sequence(conn: Conn) -> None:
    await conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {ORDER_IDS}"))


async def align_sequence(conn: Conn, restart: bool = False) -> None:
    """The next order number follows the stored ones (or starts at 1 again, after a reset)."""
    if restart:
        await conn.execute(text(f"ALTER SEQUENCE {ORDER_IDS} RESTART WITH 1"))
        return
    await conn.execute(
        text(
            f"WITH taken AS (SELECT GREATEST((SELECT MAX(seq) FROM sim_orders),"
            f" (SELECT last_value FROM {ORDER_IDS} WHERE is_called)) AS n)"
            f" SELECT setval('{ORDER_IDS}', COALESCE(n, 1), n IS NOT NULL) FROM taken"
        )
    )
