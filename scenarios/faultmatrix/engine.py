"""Runs the fault matrix: every cell on the simulator, reset, and a fresh portal; emits each cell as it finishes."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from portal.bootstrap import PortalServer
from portal.service_layer.retry import RetryPolicy
from scenarios.drivers import SimAdmin
from scenarios.faultmatrix.expected import EXPECTED, NOT_APPLICABLE
from scenarios.faultmatrix.faults import ROWS, FaultRow
from scenarios.faultmatrix.flows import FLOWS, Flow
from scenarios.faultmatrix.world import CellBroken, World
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile

TIMEOUT_S = 0.3  # each attempt of the portal's client; a hang outlasts it
RETRY = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05, deadline_s=1.5)  # room for one Retry-After of 1 s
PROFILE = {
    "catalog": {"size": 40, "changes": []},
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1d"},  # the dispatch flow dispatches itself, through the admin API
    "webhooks": {"maxAttempts": 8, "backoff": "10s"},
}


@dataclass(frozen=True, slots=True)
class CellFinished:
    """One cell: what the user saw, and what the table expects."""

    fault: str
    flow: str
    outcome: str
    expected: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.outcome == self.expected


LANES = 3  # simulators that take cells in turn: the cells mostly wait, for timeouts and Retry-After


async def run_matrix(
    seed: int = 1,
    emit: Callable[[CellFinished], None] = lambda cell: None,
    lanes: int = LANES,
    only: Collection[str] = (),
) -> list[CellFinished]:
    """Every cell (of the rows named in ``only``, when given), in the table's order.

    ``lanes`` simulators take the cells in turn; each is reset before every cell, and every cell has
    a portal of its own, so that no cell sees another's state and the same seed gives the same table.
    """
    unknown = set(only) - {row.name for row in ROWS}
    if unknown:
        raise ValueError(f"no fault row {', '.join(sorted(map(repr, unknown)))}; see scenarios.faultmatrix.faults.ROWS")
    cells = [(row, flow) for row in ROWS for flow in FLOWS if not only or row.name in only]
    results: dict[tuple[str, str], CellFinished] = {}
    pending = iter(enumerate(cells))  # shared: each lane takes the next cell when it is free
    config = SimConfig(profile=parse_profile(PROFILE, base=None), seed=seed, clock="virtual", strict=True)
    with tempfile.TemporaryDirectory(prefix="orderportal-faults-") as tmp:
        async with aiohttp.ClientSession() as session:

            async def lane() -> None:
                async with SimServer(config) as sim:
                    for index, (row, flow) in pending:
                        database = f"sqlite+aiosqlite:///{Path(tmp) / f'portal-{index}.db'}"
                        finished = await run_cell(sim, session, row, flow, seed, database)
                        results[(row.name, flow.name)] = finished
                        emit(finished)

            await asyncio.gather(*(lane() for _ in range(max(1, lanes))))
    return [results[(row.name, flow.name)] for row, flow in cells]


async def run_cell(
    sim: SimServer, session: aiohttp.ClientSession, row: FaultRow, flow: Flow, seed: int, db_url: str
) -> CellFinished:
    """One fault against one flow, from a reset simulator and an empty portal."""
    started = time.perf_counter()
    expected = EXPECTED[row.name][flow.name]
    rules = row.rules(flow.event)
    if rules is None:
        return CellFinished(row.name, flow.name, NOT_APPLICABLE, expected, 0.0)
    admin = SimAdmin.of(sim, session)
    await admin.set_faults([])
    await admin.reset(seed)
    # A request fault meets the polling of a portal without webhooks; a webhook fault, the webhooks.
    webhooks = row.webhook or flow.event is None
    portal = PortalServer(
        db_url=db_url, timeout_s=TIMEOUT_S, retry=RETRY, sync_interval_s=None, webhooks=webhooks, seed=seed
    )
    async with portal:
        world = World(sim, portal, session, rules)
        try:
            outcome = await flow.run(world)
        except CellBroken as exc:
            outcome = f"BROKEN: {exc}"
        except Exception as exc:  # a crash is this cell's outcome, not the end of the matrix
            outcome = f"BROKEN: {type(exc).__name__}: {exc}"
        finally:
            await admin.set_faults([])
        broken = await world.broken()
    if broken:
        outcome += "; BROKEN: " + "; ".join(broken)
    return CellFinished(row.name, flow.name, outcome, expected, (time.perf_counter() - started) * 1000)
