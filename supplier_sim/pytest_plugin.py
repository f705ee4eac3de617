"""A pytest plugin: the ``supplier_sim`` fixture gives any project a running simulator.

It starts a strict simulator on a free loopback port with the virtual clock, yields the
SimServer (``.url``, ``.sim``, ``.admin(...)``), and after the test re-raises anything the
simulator caught, including answers of its own that broke the contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer


@pytest_asyncio.fixture
async def supplier_sim() -> AsyncIterator[SimServer]:
    server = SimServer(SimConfig(strict=True))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    server.check()
