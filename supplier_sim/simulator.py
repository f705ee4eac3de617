"""One simulated supplier: its profile, seed, clock, database and the parts that act on them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import select

from contracts.dashboard import EventHub
from contracts.wire import LAST_INSTANT_MS, format_timestamp, parse_timestamp
from supplier_sim import catalog_sources
from supplier_sim import db as tables
from supplier_sim.auth import Authenticator, Token, token_hash
from supplier_sim.catalog import Catalog, CatalogError
from supplier_sim.clock import RealClock, VirtualClock, make_clock
from supplier_sim.cluster import Cluster, align_sequence, create_sequence
from supplier_sim.db import Database, get_meta, set_meta
from supplier_sim.faults import FaultRule, Faults
from supplier_sim.journal import Journal
from supplier_sim.lifecycle import Lifecycle
from supplier_sim.misbehaviour import Saboteur
from supplier_sim.orders import OrderBook
from supplier_sim.problems import Problem
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
        shared: bool = False,
    ) -> None:
        self.hub = hub or EventHub()  # what a dashboard follows; with none open, publishing is skipped
        self.profile = profile
        self.seed = seed
        self.clock_mode = clock
        self.db = Database(db_url)
        if shared and self.db.is_sqlite:
            raise ValueError("several workers share the simulator's state in PostgreSQL only, not SQLite")
        # One of several workers on one PostgreSQL database (supplier_sim.cluster), or alone.
        self.cluster = Cluster(self.db.url) if shared else None
        self._alone = asyncio.Lock()  # the same, within one process: two operators' moves never interleave
        self._catalog_version: str | None = None
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
        if self.cluster is not None:
            self.orders.share(self.cluster)
            self.hooks.cluster = self.lifecycle.cluster = self.cluster

    async def start(self, products: list[dict[str, Any]] | None = None) -> None:
        if self.cluster is None:
            await self.db.create_schema()
            await self._load(products)
        else:
            await self.cluster.start(self._heard)
            async with self.cluster.exclusive():  # the first worker lays out the tables and the catalog
                await self.db.create_schema()
                async with self.db.write() as conn:
                    await create_sequence(conn)
                await self._load(products)
                async with self.db.write() as conn:
                    await align_sequence(conn)
        if isinstance(self.clock, RealClock):
            self._ticker = asyncio.create_task(self._tick(), name="supplier-sim-clock")

    async def close(self) -> None:
        await self._stop()
        if self.cluster is not None:
            await self.cluster.close()
        await self.db.dispose()

    async def _stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.hooks.close()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Run what must happen once (events, deliveries, operator moves); alone, nothing to wait for.

        With several workers, one holds the scheduler lock at a time and first reads back what the
        others changed.
        """
        if self.cluster is None:
            async with self._alone:
                yield
            return
        async with self.cluster.exclusive():
            await self._sync()
            yield

    def set_faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace the fault rules, for API requests and webhooks alike; each rule's count starts again."""
        self.profile = replace(self.profile, faults=tuple(rules))
        self.faults = self.hooks.faults = Faults([FaultRule.parse(rule) for rule in rules], self.seed)

    async def share_faults(self, rules: list[dict[str, Any]]) -> None:
        """Replace the fault rules on every worker; each counts its own requests."""
        self.set_faults(rules)
        if self.cluster is not None:
            async with self.db.write() as conn:
                await set_meta(conn, "faults", orjson.dumps(rules).decode())
                await self.cluster.notify(conn, "faults")

    async def share_credentials(self, number: str, password: str | None, api_key: str | None) -> None:
        """Rotate a customer's credential on every worker."""
        self.change_credentials(number, password, api_key)
        if self.cluster is not None:
            async with self.db.write() as conn:
                await set_meta(conn, "credentials", self._credentials_doc())
                await self.cluster.notify(conn, "credentials")

    def _credentials_doc(self) -> str:
        return orjson.dumps({c.number: [c.password, c.api_key] for c in self.profile.customers}).decode()

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
        if self.cluster is not None:
            if profile is not None:
                raise Problem.conflict(
                    "per-worker-profile",
                    "several workers run this simulator: restart them with --profile to change the profile",
                )
            await self._reset_shared(self.seed if seed is None else seed)
            return
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

    async def _reset_shared(self, seed: int) -> None:
        """Empty the shared tables and start again, then tell the other workers to do the same from them."""
        assert self.cluster is not None
        products = await asyncio.to_thread(initial_products, self.profile, seed)
        async with self.cluster.exclusive():
            async with self.db.write() as conn:
                for table in reversed(tables.metadata.sorted_tables):
                    await conn.execute(table.delete())
                await align_sequence(conn, restart=True)
            await self._rejoin(seed, products)
            async with self.db.write() as conn:
                await self.cluster.notify(conn, "reset", str(seed))

    async def _rejoin(self, seed: int, products: list[dict[str, Any]] | None = None) -> None:
        """Forget this worker's state and take it again from the database (or lay it out from ``products``)."""
        assert self.cluster is not None
        ticking = self._ticker is not None
        await self._stop()
        self.cluster.forget_ids()
        self.seed = seed
        self.journal = Journal(self.profile.journal_size)
        self.errors.clear()
        self.stock.clear()
        self._build()
        await self._load(products)
        if ticking:
            self._ticker = asyncio.create_task(self._tick(), name="supplier-sim-clock")

    async def _heard(self, topic: str, arg: str) -> None:
        """Another worker changed what this one keeps in memory."""
        if topic == "clock" and isinstance(self.clock, VirtualClock):
            self.clock.set(max(int(arg), self.clock.now_ms()))
        elif topic == "catalog":
            await self._reload_catalog()
        elif topic == "webhooks":
            await self.hooks.load_registrations()
        elif topic == "token":
            digest, customer_number, expires_ms = arg.split(" ")
            customer = self.auth.customers.get(customer_number)
            if customer is not None:
                self.auth.tokens[digest] = Token(customer, int(expires_ms))
        elif topic == "tokens-expired":
            self.auth.expire_tokens()
        elif topic in ("faults", "credentials"):
            async with self.db.read() as conn:
                await self._shared_settings(conn)
        elif topic == "reset":
            await self._rejoin(int(arg))

    async def _shared_settings(self, conn: Any) -> None:
        """The fault rules and the rotated credentials another worker set."""
        faults = await get_meta(conn, "faults")
        if faults is not None:
            self.set_faults(orjson.loads(faults))
        credentials = await get_meta(conn, "credentials")
        if credentials is not None:
            for number, (password, api_key) in orjson.loads(credentials).items():
                if self.profile.customer(number) is not None:
                    self.change_credentials(number, password, api_key)

    async def _sync(self) -> None:
        """Before scheduling: the clock, catalog changes, registrations and event numbers the others moved."""
        async with self.db.read() as conn:
            clock_ms = await get_meta(conn, "virtual_clock_ms")
            applied = int(await get_meta(conn, "catalog_changes_applied") or 0)
            version = await get_meta(conn, "catalog_version")
        if isinstance(self.clock, VirtualClock) and clock_ms is not None:
            self.clock.set(max(int(clock_ms), self.clock.now_ms()))
        self.lifecycle.changes_applied = applied
        if version != self._catalog_version:
            await self._reload_catalog()
        await self.hooks.load()

    async def sync_clock(self) -> None:
        """The virtual clock as the database holds it: another worker may have just moved it."""
        if self.cluster is None or not isinstance(self.clock, VirtualClock):
            return
        async with self.db.read() as conn:
            clock_ms = await get_meta(conn, "virtual_clock_ms")
        if clock_ms is not None:
            self.clock.set(max(int(clock_ms), self.clock.now_ms()))

    async def _reload_catalog(self) -> None:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(tables.products.c.doc, tables.products.c.stock))).all()
            self._catalog_version = await get_meta(conn, "catalog_version")
        products = [orjson.loads(doc) for doc, _ in rows]
        self.stock.update({p["productNumber"]: s for p, (_, s) in zip(products, rows, strict=True)})
        self.catalog.load(products)

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
        if self.cluster is not None:
            async with self.db.read() as conn:
                await self._shared_settings(conn)
                self._catalog_version = await get_meta(conn, "catalog_version")

    async def expire_tokens(self) -> int:
        """Revoke every bearer token issued so far, the stored ones too: each is refused from now on."""
        async with self.db.write() as conn:
            await conn.execute(tables.tokens.delete())
            if self.cluster is not None:
                await self.cluster.notify(conn, "tokens-expired")
        return self.auth.expire_tokens()

    async def issue_token(self, username: str, password: str) -> tuple[str, Token]:
        token, issued = self.auth.login(username, password)
        digest = token_hash(token)
        async with self.db.write() as conn:
            await conn.execute(
                tables.tokens.insert().values(
                    token_hash=digest, customer_number=issued.customer.number, expires_ms=issued.expires_ms
                )
            )
            if self.cluster is not None:  # the hash only: a token is never sent between workers
                await self.cluster.notify(conn, "token", f"{digest} {issued.customer.number} {issued.expires_ms}")
        return token, issued

    async def advance(self, to_ms: int | None = None, *, by_ms: int | None = None) -> int:
        """Move the virtual clock to ``to_ms``, or on by ``by_ms`` from where it is once this advance's turn
        comes (two advances by an hour make two hours), stopping at each event and webhook retry on the way."""
        async with self.exclusive():
            if by_ms is not None:
                to_ms = min(self.clock.now_ms() + by_ms, LAST_INSTANT_MS)
            assert to_ms is not None, "advance to a time or by a span"
            return await self._advance(to_ms)

    async def _advance(self, to_ms: int) -> int:
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("the clock is real; only a virtual clock is advanced")
        to_ms = max(to_ms, clock.now_ms())  # another worker may have moved it past ``to_ms`` meanwhile
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
            if self.cluster is not None:
                await self.cluster.notify(conn, "clock", str(to_ms))
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
                if self.cluster is None:
                    await self.lifecycle.run_until(self.clock.now_ms())
                    await self.hooks.pump()
                else:
                    await self._shared_tick()
            except Exception:
                log.exception("the real-time clock's tick failed; retrying")
            await asyncio.sleep(REAL_TICK_S)

    async def _shared_tick(self) -> None:
        """One worker's turn at the due work, unless another worker is taking its own."""
        assert self.cluster is not None
        async with self.cluster.exclusive(wait=False) as held:
            if held:
                await self._sync()
                await self.lifecycle.run_until(self.clock.now_ms())
                await self.hooks.pump()


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
