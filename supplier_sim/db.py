"""The simulator's tables and its one database helper, which holds every dialect difference."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from contracts.databases import async_url
from contracts.sqlite_sync import SyncConnection, SyncEngine, sqlite_engine

Conn = AsyncConnection | SyncConnection  # the same awaitable methods: PostgreSQL's and SQLite's
BUSY_TIMEOUT_S = 30.0  # how long a write waits for SQLite's lock that another process holds
metadata = MetaData()

# Times are epoch milliseconds: exact, and the same on every database.
products = Table(
    "sim_products",
    metadata,
    Column("product_number", String(64), primary_key=True),
    Column("doc", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("stock", BigInteger, nullable=False),  # a quantity: containers x containerAmount, up to 1e12 a line
)

orders = Table(
    "sim_orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("customer_number", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("order_number", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("history", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("next_event", String(16)),
    Column("next_event_ms", BigInteger),
    Column("dispatch_plan", Text),
    UniqueConstraint("customer_number", "idempotency_key", name="uq_sim_orders_key"),
    Index("ix_sim_orders_customer_updated", "customer_number", "updated_ms"),
    Index("ix_sim_orders_next_event", "next_event_ms"),
)

dispatch_notifications = Table(
    "sim_dispatch_notifications",
    metadata,
    Column("dispatch_notification_id", String(80), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("doc", Text, nullable=False),
    Column("dispatched_ms", BigInteger, nullable=False),
)

tokens = Table(
    "sim_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_number", String(64), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

webhooks = Table(
    "sim_webhooks",
    metadata,
    Column("customer_number", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("registered_ms", BigInteger, nullable=False),
)

deliveries = Table(
    "sim_webhook_deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("customer_number", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    Column("fault", String(16)),  # the webhook fault that hit this event, for the delivery log
    Column("withheld", Integer, nullable=False, default=0),  # attempts a withhold fault fails on purpose
    Index("ix_sim_deliveries_due", "state", "next_attempt_ms"),
)

attempts = Table(
    "sim_webhook_attempts",
    metadata,
    Column("delivery_seq", Integer, primary_key=True, autoincrement=False),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("latency_ms", Float, nullable=False),
    Column("signature", String(16)),  # "sent", "body-only", or none when nothing was sent
    Column("fault", String(16)),  # the webhook fault that shaped this attempt
)

meta = Table(
    "sim_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


async def set_meta(conn: Conn, key: str, value: str) -> None:
    updated = await conn.execute(meta.update().where(meta.c.key == key).values(value=value))
    if not updated.rowcount:
        await conn.execute(meta.insert().values(key=key, value=value))


async def get_meta(conn: Conn, key: str) -> str | None:
    return await conn.scalar(select(meta.c.value).where(meta.c.key == key))


class Database:
    """One engine; writes are serialized (one writer, as SQLite wants), and on SQLite reads too."""

    def __init__(self, url: str) -> None:
        url = async_url(url)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine | SyncEngine
        if self.is_sqlite:
            # Statements on the spot, without an async layer (contracts.sqlite_sync). Every
            # transaction here ends in a commit or a rollback already: no reset on check-in.
            self.engine = sqlite_engine(url, BUSY_TIMEOUT_S, pool_size=1, pool_reset_on_return=None)
        else:
            # hide_parameters: a failing statement's error must not carry a secret it was writing.
            options = {"pool_size": 5, "max_overflow": 5, "pool_pre_ping": True}
            self.engine = create_async_engine(url, hide_parameters=True, **options)
        self._write_lock = asyncio.Lock()

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def drop_all_rows(self) -> None:
        async with self.write() as conn:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        """A transaction that commits on exit; one at a time."""
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        # SQLite has one connection here: a read must not interleave with a write's transaction.
        async with self._write_lock if self.is_sqlite else nullcontext(), self.engine.connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
