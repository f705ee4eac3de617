"""`orderportal sim --workers 4` on one PostgreSQL database: every order, transition and webhook once.

The workers are real processes behind one port, started as a user starts them. Whatever reaches
one of them may have to be finished by another: one of them is killed in the middle of its work.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
import pytest
import yaml
from aiohttp import web

from contracts.statuses import is_legal_move
from contracts.wire import basic_authorization
from supplier_sim import SimConfig, SimServer
from supplier_sim.cluster import LOST_EXIT, SCHEDULER_LOCK, application_name, plain_dsn
from supplier_sim.profile import parse_profile
from tests.helpers import client_for, order_body
from tests.integration.test_sim_persistence import pg_url  # noqa: F401  (the fixture: a fresh database)

CLI = [sys.executable, "-m", "scenarios.command"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
NORTH = "/api/v1/customers/10001"
AUTH = {"Authorization": basic_authorization("north-market", "north-demo-pass-1")}
DEADLINE_S = 20.0
ORDERS = 24  # each sent twice at once, with the same Idempotency-Key
SOUTH = "/api/v1/customers/10002"
SPREAD = 12  # fresh connections that must all agree
# The default profile's customers and lifecycle, with a small catalog: the workers start faster.
PROFILE = """
name: workers
catalog:
  size: 60
  changes:
    - {at: 2h, kind: price, count: 3}
    - {at: 3h, kind: barcode}
    - {at: 4h, kind: withdraw}
"""


@dataclass
class Workers:
    url: str
    pids: list[int]
    process: subprocess.Popen[str]
    parent_killed: bool = False  # then the parent's exit is the test's own business


@dataclass
class Receiver:
    """A webhook receiver that acknowledges each event id it answers 200; it can hold one request back."""

    url: str = ""
    acked: Counter[str] = field(default_factory=Counter)
    stall: bool = False
    stalled: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        event = orjson.loads(await request.read())
        if self.stall:
            self.stall = False
            self.stalled.set()
            await self.release.wait()
            return web.Response(status=503)  # its sender is gone: not acknowledged
        self.acked[event["eventId"]] += 1
        return web.Response(status=200)


@pytest.fixture
def workers(request: pytest.FixtureRequest, pg_url: str, tmp_path: Path) -> Iterator[Workers]:  # noqa: F811
    """`orderportal sim --workers 4` (or as many as the test's parameter says) on a fresh database."""
    count = str(getattr(request, "param", 4))
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    command = [*CLI, "sim", "--workers", count, "--port", "0", "--clock", "virtual", "--db", pg_url]
    command += ["--profile", str(profile)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) as process:
        assert process.stdout is not None
        lines = []
        while not lines or "workers sharing" not in lines[-1]:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        url = re.search(r"http://127\.0\.0\.1:\d+", lines[0])
        assert url, lines
        pids = [int(pid) for pid in lines[-1].rsplit("pids", 1)[1].split()]
        started = Workers(url.group(0), pids, process)
        yield started
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0 or started.parent_killed, out


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield found
    found.release.set()
    await runner.cleanup()


@asynccontextmanager
async def fresh_connections() -> AsyncIterator[aiohttp.ClientSession]:
    """A new connection for every request, so that the kernel hands them to different workers."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        yield session


async def call(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any, Any]:
    async with session.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None), response.headers


async def start_trading(session: aiohttp.ClientSession, url: str, receiver: Receiver) -> None:
    """Register the receiver, then send every order twice at once; each key makes one order."""
    status, _, _ = await call(
        session, "PUT", url + NORTH + "/webhook", json={"url": receiver.url, "secret": "s" * 32}, headers=AUTH
    )
    assert status == 200
    _, page, _ = await call(session, "GET", url + NORTH + "/products?size=50", headers=AUTH)
    products = [p for p in page["items"] if p["active"]][:3]
    sends = [
        call(
            session,
            "POST",
            url + NORTH + "/orders",
            json=order_body(products, f"SO-{n}"),
            headers={**AUTH, "Idempotency-Key": f"key-{n}"},
        )
        for n in range(ORDERS)
        for _ in range(2)
    ]
    answers = await asyncio.gather(*sends)
    assert {status for status, _, _ in answers} == {201}
    made: dict[str, set[str]] = {}
    for _, order, _headers in answers:
        made.setdefault(order["orderNumber"], set()).add(order["orderId"])
    assert all(len(ids) == 1 for ids in made.values()) and len(made) == ORDERS
    replays = Counter(headers["Idempotent-Replayed"] for _, _, headers in answers)
    assert replays == {"false": ORDERS, "true": ORDERS}


async def advance(session: aiohttp.ClientSession, url: str, to: str) -> int:
    status, body, _ = await call(session, "POST", url + "/_sim/clock/advance", json={"to": to})
    assert status == 200, body
    return int(body.get("applied", 0))


async def assert_once(pg: str, receiver: Receiver) -> None:
    """Each order moved through legal statuses once each; each event was delivered and acknowledged once."""
    conn = await asyncpg.connect(pg)
    try:
        orders = await conn.fetch("SELECT order_id, status, history, next_event FROM sim_orders")
        deliveries = await conn.fetch("SELECT event_id, body, state, attempts FROM sim_webhook_deliveries")
        notes = await conn.fetchval("SELECT count(*) FROM sim_dispatch_notifications")
        applied = await conn.fetchval("SELECT value FROM sim_meta WHERE key = 'catalog_changes_applied'")
    finally:
        await conn.close()
    assert len(orders) == ORDERS
    changes: Counter[str] = Counter()
    for order in orders:
        statuses = [entry["status"] for entry in orjson.loads(order["history"])]
        assert len(set(statuses)) == len(statuses), (order["order_id"], statuses)
        assert all(is_legal_move(a, b) for a, b in itertools.pairwise(statuses)), statuses
        assert statuses[-1] == order["status"] == "ACCEPTED" and order["next_event"] is None
        changes[order["order_id"]] = len(statuses) - 1
    events = [orjson.loads(d["body"]) for d in deliveries]
    told = Counter(e["data"]["orderId"] for e in events if e["type"] == "order.status_changed")
    assert told == changes
    assert sum(e["type"] == "dispatch_notification.created" for e in events) == notes == ORDERS
    assert {(d["state"], d["attempts"]) for d in deliveries} == {("delivered", 1)}
    assert Counter(d["event_id"] for d in deliveries) == receiver.acked
    assert set(receiver.acked.values()) == {1}
    assert applied == "3"  # the profile's three catalog changes, each once


async def test_four_workers_make_every_order_transition_and_webhook_once(
    workers: Workers,
    receiver: Receiver,
    pg_url: str,  # noqa: F811
) -> None:
    async with fresh_connections() as session:
        await start_trading(session, workers.url, receiver)
        seen = {
            (await call(session, "GET", workers.url + "/_sim/journal?limit=1"))[1]["worker"]["pid"] for _ in range(12)
        }
        assert seen <= set(workers.pids) and len(seen) > 1  # the requests were spread over the workers
        for to in ("2026-01-05T08:06:00Z", "2026-01-05T08:40:00Z", "2026-01-05T14:00:00Z"):
            await asyncio.gather(*(advance(session, workers.url, to) for _ in range(4)))
        await assert_once(pg_url, receiver)
        _, clock, _ = await call(session, "GET", workers.url + "/_sim/clock")
        assert clock["now"] == "2026-01-05T14:00:00.000Z"


async def test_a_killed_worker_s_work_is_finished_by_the_others_once(
    workers: Workers,
    receiver: Receiver,
    pg_url: str,  # noqa: F811
) -> None:
    async with fresh_connections() as session:
        await start_trading(session, workers.url, receiver)
        receiver.stall = True
        stuck = asyncio.create_task(advance(session, workers.url, "2026-01-05T14:00:00Z"))
        await asyncio.wait_for(receiver.stalled.wait(), DEADLINE_S)
        victim = await scheduler_pid(pg_url)
        assert victim in workers.pids
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(aiohttp.ClientError):
            await stuck
        await gone(victim)  # until then, the kernel may still hand a new connection to the dead worker's socket
        receiver.release.set()
        await advance(session, workers.url, "2026-01-05T14:00:00Z")  # another worker takes the lock over
        await assert_once(pg_url, receiver)


@pytest.mark.parametrize("workers", [2], indirect=True)
async def test_workers_stop_when_their_parent_is_killed(workers: Workers) -> None:
    """SIGKILL cannot be caught, so the parent cannot stop its workers: they notice it is gone and stop."""
    workers.parent_killed = True
    workers.process.kill()
    for pid in workers.pids:
        await gone(pid)


@pytest.mark.parametrize("workers", [2], indirect=True)
async def test_workers_that_keep_dying_young_are_replaced_after_a_growing_pause(workers: Workers) -> None:
    """The first replacement starts at once; the second young death in a row waits before it is replaced."""
    assert workers.process.stdout is not None
    told = workers.process.stdout

    async def replaced(pid: int) -> str:
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(DEADLINE_S):
            line = await asyncio.to_thread(told.readline)
        assert f"worker {pid} exited" in line, line
        return line

    first = await replaced(workers.pids[0])
    assert "replaces it" in first
    successor = int(first.rsplit("worker ", 1)[1].split()[0])
    second = await replaced(successor)
    assert "keep dying young: a new one starts in 0.5 s" in second
    async with asyncio.timeout(DEADLINE_S):
        assert "starts, in place of one that exited" in await asyncio.to_thread(told.readline)


@pytest.mark.parametrize("workers", [2], indirect=True)
async def test_a_worker_that_loses_its_connection_to_postgresql_exits_and_is_replaced(
    workers: Workers,
    pg_url: str,  # noqa: F811
) -> None:
    """Its lock would be free for another scheduler, its news unheard: it must not carry on."""
    victim = workers.pids[0]
    conn = await asyncpg.connect(plain_dsn(pg_url))
    try:
        ended = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application_name(victim),
        )
    finally:
        await conn.close()
    assert ended and all(row[0] for row in ended)
    await gone(victim)
    assert workers.process.stdout is not None
    told: list[str] = []
    async with asyncio.timeout(DEADLINE_S):
        while not told or "replaces it" not in told[-1]:
            told.append(await asyncio.to_thread(workers.process.stdout.readline))
    assert f"worker {victim} lost its" in "".join(told), told
    assert f"worker {victim} exited ({LOST_EXIT})" in told[-1], told


async def gone(pid: int) -> None:
    """Wait, boundedly, until the process has exited: its sockets are closed then, even before it is reaped."""
    async with asyncio.timeout(DEADLINE_S):
        while not exited(pid):  # noqa: ASYNC110 - nothing to await: the kernel tells no event of another's exit
            await asyncio.sleep(0.02)


def exited(pid: int) -> bool:
    """The process is a zombie with none of its threads left, or reaped: its files are closed.

    A zombie alone is not enough: the thread that led a process is a zombie while its other
    threads (an executor's, say) are still exiting, and they share the open files, listening
    socket included, until the last of them is gone.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text(errors="replace")
    except (FileNotFoundError, ProcessLookupError):  # reaped already, or while its status was read
        return True
    return "State:\tZ" in status and "\nThreads:\t1\n" in status


async def scheduler_pid(pg: str) -> int:
    """The worker holding the scheduler lock, by the name its connection carries."""
    conn = await asyncpg.connect(pg)
    try:
        name = await conn.fetchval(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted",
            SCHEDULER_LOCK,
        )
    finally:
        await conn.close()
    assert name, "no worker holds the scheduler lock"
    return int(name.rsplit(" ", 1)[1])


async def everywhere(session: aiohttp.ClientSession, check: Callable[[], Awaitable[bool]]) -> None:
    """Until ``check`` holds on SPREAD fresh connections in a row (each worker hears news on its own)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while not all([await check() for _ in range(SPREAD)]):
        assert asyncio.get_running_loop().time() < deadline, "a worker never heard the news"


@pytest.mark.parametrize("workers", [2], indirect=True)
async def test_what_one_worker_is_told_every_worker_knows(workers: Workers) -> None:
    url = workers.url
    async with fresh_connections() as session:
        _, login, _ = await call(
            session, "POST", url + "/api/v1/auth", json={"username": "south-market", "password": "south-demo-pass-2"}
        )
        bearer = {"Authorization": f"Bearer {login['token']}"}

        async def token_known() -> bool:
            return (await call(session, "GET", url + SOUTH + "/products?size=1", headers=bearer))[0] == 200

        await everywhere(session, token_known)

        rules = [{"kind": "error", "status": 503, "path": "/products"}]
        assert (await call(session, "PUT", url + "/_sim/faults", json=rules))[0] == 200

        async def faulted() -> bool:
            return (await call(session, "GET", url + NORTH + "/products?size=1", headers=AUTH))[0] == 503

        await everywhere(session, faulted)
        assert (await call(session, "PUT", url + "/_sim/faults", json=[]))[0] == 200
        rotated = {"Authorization": basic_authorization("north-market", "north-rotated-pass-9")}
        assert (
            await call(
                session, "PUT", url + "/_sim/customers/10001/credentials", json={"password": "north-rotated-pass-9"}
            )
        )[0] == 204

        async def rotated_only() -> bool:
            old = (await call(session, "GET", url + NORTH + "/products?size=1", headers=AUTH))[0]
            new = (await call(session, "GET", url + NORTH + "/products?size=1", headers=rotated))[0]
            return (old, new) == (401, 200)

        await everywhere(session, rotated_only)
        _, page, _ = await call(session, "GET", url + NORTH + "/products?size=5", headers=rotated)
        products = [p for p in page["items"] if p["active"]][:2]
        first = order_body(products[:1], "SO-R")
        made = await call(
            session, "POST", url + NORTH + "/orders", json=first, headers={**rotated, "Idempotency-Key": "k"}
        )
        assert made[0] == 201
        assert (await call(session, "POST", url + "/_sim/reset"))[0] == 200
        second = order_body(products, "SO-R")  # the same key, another body: only a worker that forgot would 409

        async def forgotten() -> bool:
            headers = {**rotated, "Idempotency-Key": "k"}  # a reset keeps rotated credentials, as one process does
            return (await call(session, "POST", url + NORTH + "/orders", json=second, headers=headers))[0] == 201

        await everywhere(session, forgotten)


async def test_order_numbers_a_stale_block_used_already_are_skipped_not_a_500(pg_url: str) -> None:  # noqa: F811
    """A worker whose block of numbers was drawn before a reset elsewhere may have used the numbers that
    this worker takes next: the order gets the next free number instead of failing, however many ask."""
    profile = parse_profile(yaml.safe_load(PROFILE), base=None)
    async with SimServer(SimConfig(profile=profile, db_url=pg_url, shared=True)) as sim, fresh_connections() as session:
        east = await client_for(sim, session, "10001")
        products = (await east.call("GET", "/products?size=2")).body["items"]
        first = await east.create_order(order_body(products, "SO-1"))
        assert first.status == 201, first
        taken = int(first.body["orderId"].removeprefix("ORD")) + 1  # the next number of this worker's block
        conn = await asyncpg.connect(plain_dsn(pg_url))
        try:
            for order_id, seq in ((f"ORD{taken:08d}", taken), ("ORD-STALE", taken + 1)):  # the id's, then the seq's
                await conn.execute(
                    "INSERT INTO sim_orders SELECT $1, $2, customer_number, $1, request_hash, order_number,"
                    " status, body, history, created_ms, updated_ms, NULL, NULL, dispatch_plan"
                    " FROM sim_orders WHERE order_id = $3",
                    order_id,
                    seq,
                    first.body["orderId"],
                )
        finally:
            await conn.close()
        body = order_body(products, "SO-2")
        both = await asyncio.gather(*(east.create_order(body, key="same-key") for _ in range(2)))
        assert [answer.status for answer in both] == [201, 201], both
        assert {answer.body["orderId"] for answer in both} == {f"ORD{taken + 2:08d}"}


def test_workers_refuse_sqlite_naming_the_db_option(tmp_path: Any) -> None:
    done = subprocess.run(
        [*CLI, "sim", "--workers", "2", "--db", str(tmp_path / "sim.db")],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert done.returncode == 2 and "--db" in done.stderr and "PostgreSQL" in done.stderr


@pytest.mark.parametrize("workers", [2], indirect=True)
async def test_orders_accepted_through_different_workers_each_take_their_stock(
    workers: Workers,
    pg_url: str,  # noqa: F811
) -> None:
    url = workers.url
    async with fresh_connections() as session:
        _, page, _ = await call(session, "GET", url + NORTH + "/products?size=5", headers=AUTH)
        product = next(p for p in page["items"] if p["active"])
        number, amount = product["productNumber"], product["containerAmount"]
        before = await stock_of(pg_url, number)
        for n in range(6):  # each move on a new connection: the kernel spreads them over both workers
            body = order_body([product], f"SO-STOCK-{n}")
            key = {**AUTH, "Idempotency-Key": f"stock-{n}"}
            _, order, _ = await call(session, "POST", url + NORTH + "/orders", json=body, headers=key)
            for status in ("PROCESSED", "ACCEPTED"):
                moved = await call(
                    session, "POST", f"{url}/_sim/orders/{order['orderId']}/transition", json={"status": status}
                )
                assert moved[0] == 200, moved
        assert await stock_of(pg_url, number) == before - 6 * 2 * amount  # six orders of two containers


async def stock_of(pg: str, number: str) -> int:
    conn = await asyncpg.connect(pg)
    try:
        return int(await conn.fetchval("SELECT stock FROM sim_products WHERE product_number = $1", number))
    finally:
        await conn.close()


async def test_ctrl_c_stops_workers_that_wait_for_the_database_at_start(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    from supplier_sim.cluster import SCHEDULER_LOCK

    holder = await asyncpg.connect(pg_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", SCHEDULER_LOCK)  # the workers' first step waits on it
        command = [*CLI, "sim", "--workers", "2", "--port", "0", "--clock", "virtual", "--db", pg_url]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=ENV
        )
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        async with asyncio.timeout(DEADLINE_S):  # until the workers are forked and wait for the lock
            while not await holder.fetchval(waiting):  # noqa: ASYNC110 - the waits are in other processes
                await asyncio.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=DEADLINE_S)
        assert process.returncode == 1 and b"stopped before every worker served" in out, out
    finally:
        await holder.close()
