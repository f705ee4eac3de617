"""One simulated supplier: its profile, seed, clock, database and the parts that act on them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from sqlalchemy import select

from contracts.wire import parse_timestamp
from supplier_sim import catalog as catalogs
from supplier_sim import db as tables
from supplier_sim.auth import Authenticator, Token, token_hash
from supplier_sim.catalog import Catalog
from supplier_sim.clock import RealClock, VirtualClock, make_clock
from supplier_sim.db import Database, get_meta, set_meta
from supplier_sim.journal import Journal
from supplier_sim.lifecycle import Lifecycle
from supplier_sim.orders import OrderBook
from supplier_sim.profile import Profile
from supplier_sim.webhooks import Webhooks

log = logging.getLogger("supplier_sim")
REAL_TICK_S = 0.1


class Simulator:
    def __init__(
        self, profile: Profile, seed: int, clock: str = "virtual", db_url: str = "sqlite+aiosqlite://"
    ) -> None:
        self.profile = profile
        self.seed = seed
        self.clock_mode = clock
        self.db = Database(db_url)
        self.journal = Journal(profile.journal_size)
        self._ticker: asyncio.Task[None] | None = None
        self._build()

    def _build(self) -> None:
        """The parts that depend on the profile and the seed, fresh."""
        self.clock = make_clock(self.clock_mode, self.profile.clock_start_ms)
        self.auth = Authenticator(self.profile, self.clock)
        self.catalog = Catalog()
        self.stock: dict[str, int] = {}
        self.hooks = Webhooks(self.db, self.clock, self.profile, self.seed)
        self.orders = OrderBook(self.db, self.clock, self.profile, self.seed)
        self.lifecycle = Lifecycle(self.db, self.profile, self.seed, self.catalog, self.stock, self.hooks)

    async def start(self) -> None:
        await self.db.create_schema()
        await self._load()
        if isinstance(self.clock, RealClock):
            self._ticker = asyncio.create_task(self._tick(), name="supplier-sim-clock")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.hooks.close()
        await self.db.dispose()

    async def reset(self, profile: Profile | None = None, seed: int | None = None) -> None:
        """Forget every order, token, webhook and catalog change; start again from the profile."""
        await self.close()
        self.profile = profile or self.profile
        self.seed = self.seed if seed is None else seed
        self.db = Database(self.db.url)
        await self.db.create_schema()
        await self.db.drop_all_rows()
        self.journal = Journal(self.profile.journal_size)
        self._build()
        await self.start()

    async def _load(self) -> None:
        """Resume what the database holds, or lay out the catalog from the profile and the seed."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(tables.products.c.doc, tables.products.c.stock))).all()
            applied = await get_meta(conn, "catalog_changes_applied")
            clock_ms = await get_meta(conn, "virtual_clock_ms")
            token_rows = (await conn.execute(select(tables.tokens))).all()
        if rows:
            products = [orjson.loads(doc) for doc, _ in rows]
            self.stock.update({p["productNumber"]: s for p, (_, s) in zip(products, rows, strict=True)})
        else:
            products = await asyncio.to_thread(self._initial_products)
            self.stock.update(
                {
                    p["productNumber"]: self.profile.stock.get(p["productNumber"], self.profile.default_stock)
                    for p in products
                }
            )
            if products:
                async with self.db.write() as conn:
                    await conn.execute(
                        tables.products.insert(),
                        [
                            {
                                "product_number": p["productNumber"],
                                "doc": orjson.dumps(p).decode(),
                                "active": p["active"],
                                "updated_ms": parse_timestamp(p["updatedAt"]),
                                "stock": self.stock[p["productNumber"]],
                            }
                            for p in products
                        ],
                    )
        self.catalog.load(products)
        self.lifecycle.changes_applied = int(applied or 0)
        if isinstance(self.clock, VirtualClock) and clock_ms is not None:
            self.clock.set(max(int(clock_ms), self.clock.now_ms()))
        for row in token_rows:
            customer = self.auth.customers.get(row.customer_number)
            if customer is not None:
                self.auth.tokens[row.token_hash] = Token(customer, row.expires_ms)
        await self.orders.load()
        await self.hooks.load()

    def _initial_products(self) -> list[dict[str, Any]]:
        if self.profile.catalog_file is not None:
            return catalogs.load_file(self.profile.catalog_file, self.profile)
        return catalogs.generate(self.profile, self.seed)

    async def issue_token(self, username: str, password: str) -> tuple[str, Token]:
        token, issued = self.auth.login(username, password)
        async with self.db.write() as conn:
            await conn.execute(
                tables.tokens.insert().values(
                    token_hash=token_hash(token), customer_number=issued.customer.number, expires_ms=issued.expires_ms
                )
            )
        return token, issued

    async def advance(self, to_ms: int) -> int:
        """Move the virtual clock to ``to_ms``, applying every event on the way; how many."""
        if not isinstance(self.clock, VirtualClock):
            raise RuntimeError("the clock is real; only a virtual clock is advanced")
        applied = await self.lifecycle.run_until(to_ms)
        self.clock.set(to_ms)
        async with self.db.write() as conn:
            await set_meta(conn, "virtual_clock_ms", str(to_ms))
        await self.hooks.pump()
        return applied

    async def _tick(self) -> None:
        while True:
            try:
                await self.lifecycle.run_until(self.clock.now_ms())
                await self.hooks.pump()
            except Exception:
                log.exception("the real-time clock's tick failed; retrying")
            await asyncio.sleep(REAL_TICK_S)
