"""One simulated supplier: its profile, seed, clock, database and the parts that act on them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import select

from contracts.dashboard import EventHub
from contracts.wire import format_timestamp, parse_timestamp
from supplier_sim import catalog_sources
from supplier_sim import db as tables
from supplier_sim.auth import Authenticator, Token, token_hash
from supplier_sim.catalog import Catalog, CatalogError
from supplier_sim.clock import RealClock, VirtualClock, make_clock
from supplier_sim.db import Database, get_meta, set_meta
from supplier_sim.faults import FaultRule, Faults
from supplier_sim.journal import Journal
from supplier_sim.lifecycle import Lifecycle
from supplier_sim.misbehaviour import Saboteur
from supplier_sim.orders import OrderBook
from supplier_sim.profile import Customer, Profile
from supplier_sim.webhooks import Webhooks

log = logging.getLogger("supplier_sim")
REAL_TICK_S = 0.1


class Simulator:
    def __init__(
        self,
        profile: Profile,
        seed: int,
        clock: str = "virtual",
        db_url: str = "sqlite+aiosqlite://",
        hub: EventHub | None = None,
    ) -> None:
        self.hub = hub or EventHub()  # what a dashboard follows; with none open, publishing is skipped
        self.profile = profile
        self.seed = seed
        self.clock_mode = clock
        self.db = Database(db_url)
        self.journal = Journal(profile.journal_size)
        self.errors: list[str] = []  # what went wrong inside, for SimServer.check()
        self._ticker: asyncio.Task[None] | None = None
        self._build()

    def _build(self) -> None:
        """The parts that depend on the profile and the seed, fresh."""
        self.clock = make_clock(self.clock_mode, self.profile.clock_start_ms)
        self.auth = Authenticator(self.profile, self.clock)
        self.catalog = Catalog()
        self.stock: dict[str, int] = {}
        self.faults = Faults([FaultRule.parse(rule) for rule in self.profile.faults], self.seed)
        self.hooks = Webhooks(self.db, self.clock, self.profile, self.seed, self.faults, self.hub)
        self.orders = OrderBook(self.db, self.clock, self.profile, self.seed, self.hub)
        self.saboteur = Saboteur(self.profile.misbehave)
        self.lifecycle = Lifecycle(
            self.db, self.clock, self.profile, self.seed, self.catalog, self.stock, self.hooks, self.errors, self.hub
        )

    async def start(self, products: list[dict[str, Any]] | None = None) -> None:
        await self.db.create_schema()
        await self._load(products)
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

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace the fault rules, for API requests and webhooks alike; each rule's count starts again."""
        self.profile = replace(self.profile, faults=tuple(rules))
        self.faults = self.hooks.faults = Faults([FaultRule.parse(rule) for rule in rules], self.seed)

    def change_credentials(self, number: str, password: str | None, api_key: str | None) -> Customer:
        """The supplier rotates a customer's password or API key: the old one is refused from now on."""
        customer = self.profile.customer(number)
        if customer is None:
            raise KeyError(number)
        changed = replace(
            customer,
            password=customer.password if password is None else password,
            api_key=customer.api_key if api_key is None else api_key,
        )
        customers = tuple(changed if c.number == number else c for c in self.profile.customers)
        self.profile = replace(self.profile, customers=customers)
        self.auth.know(customers)
        return changed

    async def reset(self, profile: Profile | None = None, seed: int | None = None) -> None:
        """Forget every order, token, webhook and catalog change; start again from the profile.

        The new catalog is built first: a profile that cannot be used changes nothing.
        """
        profile = profile or self.profile
        seed = self.seed if seed is None else seed
        products = await asyncio.to_thread(initial_products, profile, seed)
        await self.close()
        self.profile, self.seed = profile, seed
        self.db = Database(self.db.url)
        await self.db.create_schema()
        await self.db.drop_all_rows()
        self.journal = Journal(self.profile.journal_size)
        self.errors.clear()
        self._build()
        await self.start(products)

    async def _load(self, fresh: list[dict[str, Any]] | None) -> None:
        """Resume what the database holds, or lay out the catalog from the profile and the seed."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(tables.products.c.doc, tables.products.c.stock))).all()
            applied = await get_meta(conn, "catalog_changes_applied")
            clock_ms = await get_meta(conn, "virtual_clock_ms")
            run_id = await get_meta(conn, "run_id")
            token_rows = (await conn.execute(select(tables.tokens))).all()
        if rows:
            products = [orjson.loads(doc) for doc, _ in rows]
            self.stock.update({p["productNumber"]: s for p, (_, s) in zip(products, rows, strict=True)})
        else:
            products = (
                fresh if fresh is not None else await asyncio.to_thread(initial_products, self.profile, self.seed)
            )
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
        if run_id is None:
            # Receivers dedupe by eventId, so ids must not repeat after a reset. The value never
            # changes behaviour, so it comes from the OS rather than the seed.
            run_id = secrets.token_hex(4)
            async with self.db.write() as conn:
                await set_meta(conn, "run_id", run_id)
        self.hooks.run_id = run_id
        await self.orders.load()
        await self.hooks.load()

    async def expire_tokens(self) -> int:
        """Revoke every bearer token issued so far, the stored ones too: each is refused from now on."""
        async with self.db.write() as conn:
            await conn.execute(tables.tokens.delete())
        return self.auth.expire_tokens()

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
        """Move the virtual clock to ``to_ms``, stopping at each event and webhook retry on the way."""
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("the clock is real; only a virtual clock is advanced")
        applied = 0
        while True:
            times = [
                t for t in (await self.lifecycle.next_due_ms(), await self.hooks.next_attempt_ms()) if t is not None
            ]
            due = max(min(times), clock.now_ms()) if times else None
            if due is None or due > to_ms:
                break
            clock.set(due)
            done = await self.lifecycle.run_until(due)
            attempted = await self.hooks.pump()
            applied += done
            if not done and not attempted:
                break  # nothing could move: never spin
        clock.set(to_ms)
        async with self.db.write() as conn:
            await set_meta(conn, "virtual_clock_ms", str(to_ms))
        if self.hub.listening:
            self.hub.publish("clock", {"now": format_timestamp(to_ms), "next": await self.next_due()})
        return applied

    async def next_due(self) -> str | None:
        """When the next order event, catalog change or webhook attempt is due."""
        times = [t for t in (await self.lifecycle.next_due_ms(), await self.hooks.next_attempt_ms()) if t is not None]
        return format_timestamp(min(times)) if times else None

    async def _tick(self) -> None:
        while True:
            try:
                await self.lifecycle.run_until(self.clock.now_ms())
                await self.hooks.pump()
            except Exception:
                log.exception("the real-time clock's tick failed; retrying")
            await asyncio.sleep(REAL_TICK_S)


def initial_products(profile: Profile, seed: int) -> list[dict[str, Any]]:
    """The catalog a fresh simulator starts with; every scheduled change must name a known product."""
    if profile.catalog_file is not None:
        products = catalog_sources.load_file(profile.catalog_file, profile)
    else:
        products = catalog_sources.generate(profile, seed)
    numbers = {p["productNumber"] for p in products}
    if any(ch.product_number is not None and ch.product_number not in numbers for ch in profile.catalog_changes):
        raise CatalogError("profile: catalog.changes: a change names a product that is not in the catalog")
    return products
