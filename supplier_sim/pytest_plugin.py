"""A pytest plugin: the ``supplier_sim`` fixture is a strict simulator on a free port (virtual clock).

After the test, ``check()`` re-raises anything the simulator caught, including its own answers that
broke the contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer

try:
    import pytest_asyncio
except ImportError:  # the fixture needs pytest-asyncio; without it the plugin offers nothing
    pytest_asyncio = None  # type: ignore[assignment]

if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def supplier_sim() -> AsyncIterator[SimServer]:
        server = SimServer(SimConfig(strict=True))
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
        server.check()
