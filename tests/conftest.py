from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile
from tests.fakes import Receiver
from tests.helpers import SimClient, client_for

SMALL = {"catalog": {"size": 60, "changes": []}}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def start_sim() -> AsyncIterator[Callable[..., Awaitable[SimServer]]]:
    """Start simulators on free loopback ports (strict: every answer checked); stop and check them after."""
    servers: list[SimServer] = []

    async def start(profile: dict[str, Any] | None = None, **config: Any) -> SimServer:
        merged = {**SMALL, **(profile or {})}
        server = SimServer(SimConfig(profile=parse_profile(merged, base=None), strict=True, **config))
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
    for server in servers:
        server.check()


@pytest.fixture
async def sim(start_sim: Callable[..., Awaitable[SimServer]]) -> SimServer:
    return await start_sim()


@pytest.fixture
def north(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10001 of the default profile: HTTP Basic."""
    return client_for(sim, session, "10001")


@pytest.fixture
def south(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10002: bearer tokens."""
    return client_for(sim, session, "10002")


@pytest.fixture
def east(sim: SimServer, session: aiohttp.ClientSession) -> SimClient:
    """Customer 10003: X-Api-Key."""
    return client_for(sim, session, "10003")


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
