"""The crash test: a real portal process sends stock orders through a faulty supplier and is killed, again and again.

Each round starts `orderportal portal` on the same database and port, has users send a seeded share
of the orders that were never queued (and again those in the outbox), all at once, and kills it with
SIGKILL. The seed plans each kill: right after the supplier has stored the round's k-th new order,
whose answer the simulator sends at least 60 ms late, so that the supplier holds an order the dead
portal never heard of ("in doubt"); or at a random moment, which also lands before the outbox
commit and during retries after a 503 or a dropped connection. The simulator's clock moves on
between rounds, so that webhooks meet a dead portal. At the end a last portal recovers what the
outbox holds by itself, the user sends again what never reached the outbox, and every stock order
must be at the supplier exactly once, with the status and dispatches the supplier has.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from portal.adapters.database import make_engine
from portal.adapters.repositories import SqlRepository
from portal.adapters.unit_of_work import SqlUnitOfWork
from portal.domain.model import DispatchNotification, SendIntent, StockOrder, StockOrderState
from scenarios.drivers import PortalClient, ShopNames, SimAdmin, set_up_shop
from supplier_sim import SimServer
from tests.helpers import held_orders, portal_api

SEED = int(os.environ.get("ORDERPORTAL_CRASH_SEED", "20261126"))
REPRODUCE = f"reproduce: ORDERPORTAL_CRASH_SEED={SEED} .venv/bin/python -m pytest -q tests/e2e/test_crash.py -s"
ORDERS = 24
KILLS = 6
CUSTOMER = "10001"
ORDERPORTAL = str(Path(sys.executable).parent / "orderportal")
AFTER_ORDER, AT_MOMENT = "after-order", "at-moment"
STARTUP_S = 30.0  # a portal that shows no banner by then has failed to start
TRIGGER_WAIT_S = 10.0  # far longer than the k-th new order of a round takes, even on a loaded machine
SYNC_ROUNDS = 8  # the final portal's rounds before its outbox must be empty
# The first rule that matches and hits a request wins, so the 503s and dropped connections come first
# and every order the supplier makes is answered late: a kill in that gap leaves the order in doubt.
FAULTS = [
    {"kind": "error", "method": "POST", "path": "/orders", "status": 503, "every": 5},
    {"kind": "reset", "method": "POST", "path": "/orders", "every": 7},
    {"kind": "latency", "method": "POST", "path": "/orders", "latency": {"min": "60ms", "max": "250ms"}, "rate": 1.0},
    {"kind": "error", "method": "GET", "path": "/orders", "status": 503, "every": 4},
]
PROFILE = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Kill:
    """When a round's portal dies: once the round's ``nth`` new order is stored, or ``after_s`` into the sends."""

    trigger: str
    nth: int = 0
    after_s: float = 0.0


def plan_kills(rng: random.Random) -> list[Kill]:
    """Both triggers at least once, in a seeded order; the last kill leaves an order in doubt for the final portal."""
    triggers = [AFTER_ORDER, AT_MOMENT] + [rng.choice((AFTER_ORDER, AT_MOMENT)) for _ in range(KILLS - 3)]
    rng.shuffle(triggers)
    triggers.append(AFTER_ORDER)
    return [
        Kill(AFTER_ORDER, nth=rng.randint(1, 2))
        if trigger == AFTER_ORDER
        else Kill(AT_MOMENT, after_s=rng.uniform(0.01, 0.6))
        for trigger in triggers
    ]


@dataclass
class Watch:
    """What the supplier's order book did during one round; once armed, ``fired`` is set by its ``nth`` new order."""

    reached: int = 0  # order requests that got past the faults to the order book, replays included
    made: list[str] = field(default_factory=list)  # the numbers of the orders made, in order
    nth: int = 0  # unarmed
    armed_at: int = 0  # how many orders were made before arming
    fired: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, nth: int) -> None:
        """Fire on the ``nth`` order made from now on; armed only while a kill waits, so that no fire goes unheeded."""
        self.nth, self.armed_at = nth, len(self.made)

    @property
    def trigger_order(self) -> str | None:
        return self.made[self.armed_at + self.nth - 1] if self.fired.is_set() else None


def watch_order_book(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> list[Watch]:
    """Count every order request the simulator handles in the newest Watch of the list returned.

    The wrapper sets ``fired`` after the order is committed and before the handler returns, so the
    latency fault has not even begun to wait: a kill on ``fired`` beats the answer on any machine.
    """
    book = sim.sim.orders
    create = book.create
    watches: list[Watch] = []

    async def counted(customer_number: str, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if watches:
            watches[-1].reached += 1
        order, created = await create(customer_number, key, body)
        if created and watches:
            watch = watches[-1]
            watch.made.append(body["orderNumber"])
            if watch.nth and len(watch.made) == watch.armed_at + watch.nth:
                watch.fired.set()
        return order, created

    monkeypatch.setattr(book, "create", counted)
    return watches


@dataclass(frozen=True, slots=True)
class Round:
    kill: Kill
    clicks: int  # orders users sent at once, queued ones included
    fresh: int  # of those, orders that were in no outbox before the round
    queued: int  # fresh orders whose outbox entry was committed (or that were sent) when the portal died
    reached: int
    made: int
    answered: int  # sends the portal had answered 200 when it died
    in_doubt: tuple[str, ...]  # orders made this round that the dead portal had not recorded as sent
    trigger_order: str | None  # the order whose storing fired an after-order kill
    killed_after_s: float
    strays: tuple[str, ...]  # orders the supplier holds that the portal has neither sent nor queued

    def line(self, index: int) -> str:
        how = f"{self.kill.trigger}#{self.kill.nth}" if self.kill.trigger == AFTER_ORDER else self.kill.trigger
        return (
            f"round {index} {how:<13} killed at {self.killed_after_s:.3f}s: {self.clicks} clicks ({self.fresh} fresh, "
            f"{self.queued} queued), {self.reached} sends reached the supplier, {self.made} made, "
            f"{self.answered} answered, {len(self.in_doubt)} in doubt {list(self.in_doubt)}"
        )


@asynccontextmanager
async def portal_process(db_url: str, port: int, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`orderportal portal` on ``port``, started; killed with SIGKILL when the block ends, if still alive."""
    command = [ORDERPORTAL, "portal", "--port", str(port), "--db", db_url, "--seed", str(SEED)]
    command += ["--sync-interval", "0.3", "--timeout", "1", "--retry-deadline", "3"]
    with log.open("ab") as out:
        offset = out.tell()  # this portal's own lines start here
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=out)
    try:
        await started(process, log, offset)
        yield process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
        await process.wait()


async def started(process: asyncio.subprocess.Process, log: Path, offset: int) -> None:
    """Wait for the portal's banner; a portal that does not start fails the test with what it logged."""
    assert process.stdout is not None
    try:
        banner = await asyncio.wait_for(process.stdout.readline(), STARTUP_S)
    except TimeoutError:
        banner = f"no banner within {STARTUP_S:g} s".encode()
    if not banner.startswith(b"portal on http://"):
        logged = tail(log, offset)
        raise AssertionError(f"the portal did not start: {banner!r}\n--- the end of {log}:\n{logged}\n{REPRODUCE}")


def tail(log: Path, offset: int, size: int = 3000) -> str:
    """The last ``size`` characters one portal wrote to ``log`` from ``offset`` on."""
    with log.open("rb") as logged:
        logged.seek(offset)
        return logged.read()[-size:].decode(errors="replace")


async def make_orders(api: PortalClient, sim: SimServer) -> list[dict[str, Any]]:
    """ORDERS booked stock orders of one or two products each."""
    names = ShopNames("CRASH", "Crash store", "W1", "Warehouse", "Faulty")
    shop = await set_up_shop(api, SimAdmin.of(sim, api.session), CUSTOMER, names=names)
    await api.open(shop.supplier["id"], shop.house["id"])
    products = [p["productNumber"] for p in await api.products(shop.supplier["id"]) if p["active"]]
    cart = shop.cart
    rng = random.Random(SEED)
    orders = []
    for _ in range(ORDERS):
        for product in rng.sample(products, rng.choice((1, 2))):
            await api.ok("PUT", f"{cart}/lines/{product}", {"containers": rng.randint(1, 4)})
        await api.ok("POST", f"{cart}/update-products")
        order = await api.ok("POST", f"{cart}/create-stock-orders")
        orders.append(await api.ok("POST", f"/api/stock-orders/{order['id']}/book"))
    return orders


async def send_all(api: PortalClient, ids: list[int], answered: list[int]) -> None:
    """Send each order at once, as impatient users would; a dying portal cuts some off."""

    async def send(order_id: int) -> None:
        try:
            answer = await api.call("POST", f"/api/stock-orders/{order_id}/send")
        except (aiohttp.ClientError, TimeoutError):
            return
        if answer.status == 200:
            answered.append(order_id)

    await asyncio.gather(*(send(order_id) for order_id in ids))


async def crash_round(
    api: PortalClient,
    sim: SimServer,
    watches: list[Watch],
    kill: Kill,
    db_url: str,
    port: int,
    log: Path,
    rng: random.Random,
    rounds_left: int,
) -> Round:
    """Send a seeded share of the never-queued orders (all in the last round), and the queued ones; kill as planned."""
    orders, queued_before = await portal_orders(db_url), await outbox_keys(db_url)
    booked = sorted(order_id for order_id, o in orders.items() if o.state is StockOrderState.BOOKED)
    fresh = [order_id for order_id in booked if order_id not in queued_before]
    picked = rng.sample(fresh, min(len(fresh), max(2, -(-len(fresh) // rounds_left))))
    batch = picked + [order_id for order_id in booked if order_id in queued_before]
    watch = Watch()
    assert kill.trigger == AT_MOMENT or picked, (
        "an after-order round has no order that is new to the supplier",
        REPRODUCE,
    )
    watches.append(watch)  # before the start: the restarted worker's own sends count too
    answered: list[int] = []
    async with portal_process(db_url, port, log) as process:
        if kill.trigger == AFTER_ORDER:  # no await from here to the wait: the kill follows the fire at once
            watch.arm(min(kill.nth, len(picked)))
        began = time.monotonic()
        sending = asyncio.create_task(send_all(api, batch, answered))
        if kill.trigger == AT_MOMENT:
            await asyncio.sleep(kill.after_s)  # the kill's moment, not a wait for a status
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TRIGGER_WAIT_S):
                    await watch.fired.wait()
        process.send_signal(signal.SIGKILL)
        killed_after = time.monotonic() - began
        await process.wait()
        await sending
    orders, queued = await portal_orders(db_url), await outbox_keys(db_url)
    sent = {o.number for o in orders.values() if o.state is StockOrderState.SENT}
    promised = sent | {orders[order_id].number for order_id in queued}
    return Round(
        kill=kill,
        clicks=len(batch),
        fresh=len(picked),
        queued=sum(order_id in queued or orders[order_id].state is StockOrderState.SENT for order_id in picked),
        reached=watch.reached,
        made=len(watch.made),
        answered=len(answered),
        in_doubt=tuple(number for number in watch.made if number not in sent),
        trigger_order=watch.trigger_order,
        killed_after_s=killed_after,
        strays=tuple(sorted(set(await supplier_orders(SimAdmin.of(sim, api.session))) - promised)),
    )


async def test_sigkill_at_random_moments_loses_no_order_and_sends_none_twice(
    start_sim: Callable[..., Awaitable[SimServer]],
    portal_db: str,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = await start_sim({**PROFILE, "faults": FAULTS}, seed=SEED)
    watches = watch_order_book(sim, monkeypatch)
    port, log = free_port(), tmp_path / "portal.log"
    api = portal_api(f"http://127.0.0.1:{port}", session)
    rng = random.Random(SEED)
    kills = plan_kills(rng)
    async with portal_process(portal_db, port, log):
        orders = await make_orders(api, sim)
    print(f"\ncrash test, seed {SEED}, {portal_db.split(':')[0]}:")
    rounds = []
    for done, kill in enumerate(kills):
        rounds.append(await crash_round(api, sim, watches, kill, portal_db, port, log, rng, KILLS - done))
        print(rounds[-1].line(done + 1), flush=True)
        await sim.admin(session, "POST", "clock/advance", json={"by": "3m"})  # events meet a dead portal

    # What the last kill left, read while no portal runs: the outbox, and the clicks that died before it.
    left = await portal_orders(portal_db)
    keys = await outbox_keys(portal_db)
    by_hand = sorted(i for i, o in left.items() if o.state is StockOrderState.BOOKED and i not in keys)
    held = await supplier_orders(SimAdmin.of(sim, session))
    in_doubt_at_restart = sorted(left[order_id].number for order_id in keys if left[order_id].number in held)
    in_doubt = sum(len(r.in_doubt) for r in rounds)
    after_order = sum(r.kill.trigger == AFTER_ORDER for r in rounds)
    print(
        f"kills survived: {len(rounds)} ({after_order} {AFTER_ORDER}, {len(rounds) - after_order} {AT_MOMENT}); "
        f"in doubt at kill: {in_doubt}; sends reached the supplier: {sum(r.reached for r in rounds)}, "
        f"answered: {sum(r.answered for r in rounds)}; left for the last portal: {len(keys)} in the outbox "
        f"({len(in_doubt_at_restart)} in doubt), {len(by_hand)} to send again by hand"
    )

    # The kills mattered: each after-order kill beat the answer of the order that fired it.
    for index, done_round in enumerate(rounds, 1):
        if done_round.kill.trigger == AFTER_ORDER:
            assert done_round.trigger_order is not None, (
                f"round {index}: no new order within {TRIGGER_WAIT_S}s",
                REPRODUCE,
            )
            assert done_round.trigger_order in done_round.in_doubt, (done_round.line(index), REPRODUCE)
        assert not done_round.strays, (
            f"round {index}: at the supplier, but neither sent nor queued",
            done_round.strays,
            REPRODUCE,
        )
    assert in_doubt > 0 and in_doubt_at_restart, ("no kill left an order in doubt", REPRODUCE)

    watches.append(Watch())  # the last portal's sends are counted apart from the last round's
    async with portal_process(portal_db, port, log):
        # No user sends anything: the outbox alone sends every order it holds, with its own key, so that the
        # supplier holds each once, made with that key.
        assert await sync_until_empty(api) == [], ("left in the outbox", REPRODUCE)
        held = await supplier_orders(SimAdmin.of(sim, session))
        for order_id, key in keys.items():
            order = await api.ok("GET", f"/api/stock-orders/{order_id}")
            assert order["state"] == "SENT", (order["number"], order["state"], "not recovered by the outbox", REPRODUCE)
            assert held.get(order["number"]) == [(order["orderportal"]["supplierOrderId"], key)], (
                f"{order['number']} is not at the supplier once, made with the outbox's key {key}",
                held.get(order["number"]),
                REPRODUCE,
            )
        clicked: list[int] = []  # the users click again where their request died with the process
        await send_all(api, by_hand, clicked)
        assert sorted(clicked) == by_hand, ("a send by hand was not answered 200", by_hand, clicked, REPRODUCE)
        assert await sync_until_empty(api) == [], ("left in the outbox", REPRODUCE)
        await sim.admin(session, "POST", "clock/advance", json={"by": "2h"})  # every order final and dispatched
        for _ in range(3):  # a poll that meets an injected 503 is taken again on the next round
            await api.ok("POST", "/api/sync")
        final_orders = [await api.ok("GET", f"/api/stock-orders/{o['id']}") for o in orders]
    notes = await stored_notifications(portal_db)

    at_supplier, total = await held_orders(SimAdmin.of(sim, session), CUSTOMER)
    copies = Counter(o["orderNumber"] for o in at_supplier)
    assert total == ORDERS and set(copies.values()) == {1}, (copies, REPRODUCE)
    by_number = {o["orderNumber"]: o for o in at_supplier}
    assert set(by_number) == {o["number"] for o in orders}, REPRODUCE
    for before, after in zip(orders, final_orders, strict=True):
        theirs = by_number[after["number"]]
        assert after["lines"] == before["lines"], (after["number"], REPRODUCE)  # no row lost or changed
        assert after["state"] == "SENT" and after["orderportal"]["supplierOrderId"] == theirs["orderId"], REPRODUCE
        assert after["orderportal"]["status"] == theirs["status"], (after["number"], REPRODUCE)
    accepted = [o for o in final_orders if o["orderportal"]["status"] == "ACCEPTED"]
    assert accepted, ("the seed gives no accepted order: nothing shows that dispatches catch up", REPRODUCE)
    for order in accepted:
        found = await SimAdmin.of(sim, session).dispatch_notifications(order["orderportal"]["supplierOrderId"])
        assert len(found) >= 1, (order["number"], REPRODUCE)
        shipped = sorted(n["dispatchNotificationId"] for n in found)
        assert notes.get(order["id"], []) == shipped, (order["number"], REPRODUCE)  # caught up, by webhook or poll


async def sync_until_empty(api: PortalClient) -> list[dict[str, Any]]:
    """Run the worker's round through POST /api/sync until the outbox is empty, SYNC_ROUNDS at most; what is left."""
    for _ in range(SYNC_ROUNDS):
        waiting: list[dict[str, Any]] = (await api.ok("GET", "/api/outbox"))["items"]
        if not waiting:
            return waiting
        await api.ok("POST", "/api/sync")
    return list((await api.ok("GET", "/api/outbox"))["items"])


async def stored(db_url: str, cls: type) -> list[Any]:
    """What the portal's database holds of ``cls``, read while no portal runs."""
    engine = make_engine(db_url)
    try:
        async with SqlUnitOfWork(engine) as uow:
            return await SqlRepository(uow.rows, cls).all()
    finally:
        await engine.dispose()


async def portal_orders(db_url: str) -> dict[int, StockOrder]:
    return {order.id: order for order in await stored(db_url, StockOrder)}


async def outbox_keys(db_url: str) -> dict[int, str]:
    """The outbox: the Idempotency-Key of each stock order waiting to be sent."""
    return {intent.stock_order_id: intent.idempotency_key for intent in await stored(db_url, SendIntent)}


async def supplier_orders(admin: SimAdmin) -> dict[str, list[tuple[str, str]]]:
    """Per order number, the (order id, Idempotency-Key) of each order the supplier holds for CUSTOMER."""
    held: dict[str, list[tuple[str, str]]] = {}
    for found in await admin.orders(CUSTOMER):
        held.setdefault(found.order["orderNumber"], []).append((found.order["orderId"], found.idempotency_key))
    return held


async def stored_notifications(db_url: str) -> dict[int, list[str]]:
    """The dispatch notifications the portal's database holds, per stock order."""
    held: dict[int, list[str]] = {}
    for note in await stored(db_url, DispatchNotification):
        held.setdefault(note.stock_order_id, []).append(note.notification_id)
    return {order: sorted(numbers) for order, numbers in held.items()}
