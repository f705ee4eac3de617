from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import make_url, text

from contracts.signing import signed_headers
from portal.adapters import tables
from portal.adapters.database import Engine, create_schema, make_engine
from portal.bootstrap import PortalServer
from portal.service_layer.retry import RetryPolicy
from scenarios.cache import default_cache_dir
from scenarios.drivers import PortalClient, ShopNames, SimAdmin, set_up_shop
from scenarios.drivers import Shop as ShopSetUp
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile
from tests.fakes import Receiver
from tests.helpers import SimClient, client_for, portal_api

SMALL = {"catalog": {"size": 60, "changes": []}}

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(default_cache_dir() / "tests")  # where fuzz keeps its own: no .hypothesis/ in the repo


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def sim_server(profile: dict[str, Any] | None = None, **config: Any) -> SimServer:
    """A strict simulator (every answer checked) with a small catalog, not started yet."""
    merged = {**SMALL, **(profile or {})}
    return SimServer(SimConfig(profile=parse_profile(merged, base=None), strict=True, **config))


def portal_server(db_url: str, **options: Any) -> PortalServer:
    """A portal for tests, not started yet: no worker (a test runs its round: sync()) and quick retries."""
    options.setdefault("sync_interval_s", None)
    options.setdefault("retry", RetryPolicy(base_s=0.01, cap_s=0.1))
    return PortalServer(db_url=db_url, **options)


async def empty_portal_database(directory: Path) -> str:
    """The portal's database: ORDERPORTAL_TEST_DATABASE_URL emptied, or a new SQLite file in ``directory``.

    When the suite runs on several processes (pytest-xdist), each has a database of its own, named after the
    given one and the process (``test_gw0``), created on first use.
    """
    url = os.environ.get("ORDERPORTAL_TEST_DATABASE_URL")
    if not url:
        return f"sqlite+aiosqlite:///{directory / 'portal.db'}"
    url = await _this_workers_database(url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.drop_all)
    await engine.dispose()
    return url


async def _this_workers_database(url: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = make_url(url)
    name = f"{given.database}_{worker}"
    admin = make_engine(given.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if not (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).first():
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


class Servers(list[Any]):
    """The servers a test started on free loopback ports, each stopped after it."""

    def starter(self, make: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def start(*args: Any, **options: Any) -> Any:
            server = make(*args, **options)
            await server.start()
            self.append(server)
            return server

        return start

    async def stop(self) -> None:
        for server in self:
            await server.stop()


@pytest.fixture
async def start_sim() -> AsyncIterator[Callable[..., Awaitable[SimServer]]]:
    """Start simulators on free loopback ports (strict: every answer checked); stop and check them after."""
    servers = Servers()
    yield servers.starter(sim_server)
    await servers.stop()
    for server in servers:
        server.check()


@pytest.fixture
async def sim(start_sim: Callable[..., Awaitable[SimServer]]) -> SimServer:
    return await start_sim()


@pytest.fixture
async def north(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10001 of the default profile: HTTP Basic."""
    return await client_for(sim, session, "10001")


@pytest.fixture
async def south(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10002: bearer tokens."""
    return await client_for(sim, session, "10002")


@pytest.fixture
async def east(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10003: X-Api-Key."""
    return await client_for(sim, session, "10003")


@pytest.fixture
async def receiver_factory() -> AsyncIterator:
    runners = []

    async def start(failures: int = 0) -> Receiver:
        receiver = Receiver(failures)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        runners.append(runner)
        return receiver

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def portal_db(tmp_path: Path) -> str:
    """The portal's database: ORDERPORTAL_TEST_DATABASE_URL emptied for this test, or an SQLite file."""
    return await empty_portal_database(tmp_path)


@pytest.fixture
async def portal_engine(portal_db: str) -> AsyncIterator[Engine]:
    """An engine on the portal's test database, its schema made: for tests of the unit of work itself."""
    engine = make_engine(portal_db)
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def start_portal(portal_db: str) -> AsyncIterator[Callable[..., Awaitable[PortalServer]]]:
    """Start portals on the test's database and free loopback ports; stop them after."""
    servers = Servers()
    yield servers.starter(functools.partial(portal_server, portal_db))
    await servers.stop()


@dataclass(frozen=True, slots=True)
class Shop(ShopSetUp):
    """A portal with an org unit, a warehouse and an ORDERPORTAL supplier whose customer number is coupled."""

    api: PortalClient
    admin: SimAdmin
    sim: SimServer
    portal: PortalServer

    async def open(self) -> dict[str, Any]:
        return await self.api.open(self.supplier["id"], self.house["id"])

    async def products(self) -> list[dict[str, Any]]:
        return await self.api.products(self.supplier["id"])

    async def order(self, picks: list[tuple[str, int]]) -> dict[str, Any]:
        """A booked stock order of these (product number, containers)."""
        for number, containers in picks:
            await self.api.put_in_cart(self.cart, number, containers)
        await self.api.update_products(self.cart)
        order = await self.api.create_stock_orders(self.cart)
        return await self.api.book(order["id"])

    async def advance(self, by: str) -> dict[str, Any]:
        return await self.admin.advance(by)

    async def signed(
        self, event: dict[str, Any], customer_id: int | None = None, sent_at: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """An event signed, now or at ``sent_at``, with the secret the portal gave the supplier."""
        secret = await self.portal.state().webhook_secret(customer_id or self.customer["id"])
        raw = json.dumps(event).encode()
        headers = signed_headers(secret or "", raw, int(time.time()) if sent_at is None else sent_at)
        return raw, {**headers, "Content-Type": "application/json"}


async def make_shop(
    sim: SimServer, portal: PortalServer, session: aiohttp.ClientSession, number: str = "10001"
) -> Shop:
    api, admin = portal_api(portal.url, session), SimAdmin.of(sim, session)
    shop = await set_up_shop(api, admin, number, names=ShopNames.of(number))
    return Shop(shop.unit, shop.house, shop.supplier, shop.customer, api, admin, sim, portal)


@pytest.fixture
async def shop(start_sim, start_portal, session) -> Shop:
    """A strict simulator (fast lifecycle) and a portal coupled to it as customer 10001."""
    sim = await start_sim(
        {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}
    )
    return await make_shop(sim, await start_portal(), session)
