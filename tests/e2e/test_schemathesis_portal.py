"""Schemathesis runs against the portal's own OpenAPI document and a running portal over loopback: no 5xx, and
every answer (status code, content type, body) is in the document.

The portal is coupled to a simulator as three customer numbers, one per authentication method, and holds stock
orders in every state, dispatch notifications and receipts, so that small ids reach real data. Schemathesis calls
are blocking, so the simulator and the portal (built as the start_sim and start_portal fixtures build them) run on
an event loop of their own, in a thread. Both valid and invalid requests are generated; the examples are few and
derandomized, so the run is the same every time.

Every operation of the document is fuzzed; none is skipped. The webhook receiver gets no valid signature (only the
supplier has the secret), so it is fuzzed for its refusals: 401 for a signature that does not hold, 404 for an
unknown customer number, both problem+json.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

import contracts
from portal.bootstrap import PortalServer
from supplier_sim import SimServer
from tests.conftest import Shop, empty_portal_database, make_shop, portal_server, sim_server

DOCUMENT = Path(contracts.__file__).parent / "portal-openapi.yaml"
FAST = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}
T = TypeVar("T")
KNOWN_IDS = 12  # the world holds ids 1..12 of stock orders and fewer of everything else
PRODUCTS: list[str] = []  # the simulator's product numbers, once the world is up
VALID_PRODUCT = re.compile(r"[^\x00-\x1f]{1,64}")
# Operations whose schema-valid bodies may still be refused, with 422 naming the field, because of stored state:
STATEFUL_422 = {
    # ORDERPORTAL without a baseUrl is fine only for a supplier that has one already.
    "PATCH /api/suppliers/{id}",
    # Receiving more than the notification shipped and the order still lacks, or nothing at all.
    "POST /api/dispatch-notifications/{id}/receipt",
}
CASES: Counter[str] = Counter()  # per operation
ANSWERS: Counter[int] = Counter()  # per status class


@dataclass
class World:
    """A simulator and a portal coupled to it, on an event loop of their own."""

    loop: asyncio.AbstractEventLoop
    sim: SimServer = field(init=False)
    portal: PortalServer = field(init=False)
    shops: list[Shop] = field(default_factory=list)
    running: AsyncExitStack = field(default_factory=AsyncExitStack)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=120)

    async def start(self, directory: Path) -> None:
        self.sim = await self.running.enter_async_context(sim_server(FAST))
        self.portal = await self.running.enter_async_context(portal_server(await empty_portal_database(directory)))
        session = await self.running.enter_async_context(aiohttp.ClientSession())
        self.shops = [await make_shop(self.sim, self.portal, session, n) for n in ("10001", "10002", "10003")]
        received = []
        for shop in self.shops:
            await shop.open()
            active = [p["productNumber"] for p in await shop.products() if p["active"]]
            PRODUCTS[:] = active[:8]
            for picks in ([(active[0], 2), (active[1], 1)], [(active[2], 1)]):
                received.append((shop, await shop.order(picks)))
                await shop.api.ok("POST", f"/api/stock-orders/{received[-1][1]['id']}/send")
            await shop.order([(active[3], 1)])  # booked, not sent
            await shop.api.ok("PUT", f"{shop.cart}/lines/{active[4]}", {"containers": 1})
            await shop.api.ok("POST", f"{shop.cart}/update-products")
            await shop.api.ok("POST", f"{shop.cart}/create-stock-orders")  # unbooked
            await shop.api.ok("PUT", f"{shop.cart}/lines/{active[5]}", {"containers": 3})  # left in the cart
        await self.shops[0].advance("1h")  # the sent orders are accepted and dispatched, and the portal was told
        for (shop, whole), (_, by_note) in zip(received[::2], received[1::2], strict=True):
            path = f"/api/stock-orders/{by_note['id']}/dispatch-notifications"
            note = (await shop.api.ok("POST", path))["items"][0]
            receipt = await shop.api.ok("POST", f"/api/dispatch-notifications/{note['id']}/receipt", {})
            await shop.api.ok("POST", f"/api/stock-receipts/{receipt['id']}/book")
            await shop.api.ok("POST", f"/api/stock-orders/{whole['id']}/receipt")  # not booked

    async def restore(self) -> None:
        """Every supplier back on the simulator and every customer number coupled, as a user would do it."""
        for shop in self.shops:
            change = {"orderInterface": "ORDERPORTAL", "baseUrl": self.sim.url}
            await shop.api.ok("PATCH", f"/api/suppliers/{shop.supplier['id']}", change)
            login = await shop.admin.credentials(shop.customer["number"])
            credentials = {k: v for k, v in login.fields().items() if k != "number"}
            await shop.api.ok("PATCH", f"/api/customer-numbers/{shop.customer['id']}", credentials)
            await shop.api.ok("POST", f"/api/customer-numbers/{shop.customer['id']}/couple")

    async def stop(self) -> None:
        await self.running.aclose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="portal-world", daemon=True)
    thread.start()
    world = World(loop)
    try:
        world.run(world.start(tmp_path_factory.mktemp("portal")))
        yield world
    finally:
        world.run(world.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
    world.sim.check()
    answers = ", ".join(f"{status // 100}xx: {count}" for status, count in sorted(ANSWERS.items()))
    line = f"\nschemathesis: {CASES.total()} cases against the portal over {len(CASES)} operations ({answers})"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():  # printed even when pytest captures output
        print(line)


@pytest.fixture
def coupled(world: World) -> World:
    """Each operation starts with every supplier on the simulator and every customer number coupled."""
    world.run(world.restore())
    return world


schema = schemathesis.openapi.from_path(DOCUMENT)  # a file read: the portal starts only when the test runs
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time, each valid id is one the world holds and each product one the simulator lists.

    Random ids would meet little but 404s. Only valid values are swapped for valid values, so that a case meant to
    be invalid stays invalid.
    """
    if not path_parameters:
        return st.just(path_parameters)
    known = {
        name: st.sampled_from(PRODUCTS) if name == "product" else st.integers(min_value=1, max_value=KNOWN_IDS)
        for name, value in path_parameters.items()
        if (isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2**31)
        or (name == "product" and isinstance(value, str) and VALID_PRODUCT.fullmatch(value) and PRODUCTS)
    }
    kept = {name: st.just(value) for name, value in path_parameters.items()}
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**kept, **known}))


@schema.parametrize()
@settings(max_examples=50, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_portal_meets_its_openapi_document(case: schemathesis.Case, coupled: World) -> None:
    world = coupled
    base_url = case.body.get("baseUrl") if isinstance(case.body, dict) else None
    if isinstance(base_url, str) and base_url.startswith(("http://", "https://")) and len(base_url) <= 2000:
        # A supplier pointed at a random host would make every later call to it wait for that host, so a valid
        # baseUrl is the simulator's. Invalid ones stay, and test_portal_hostile.py tries hosts that cannot work.
        case.body["baseUrl"] = world.sim.url
    excluded = []
    if case.operation.label in STATEFUL_422:
        # Valid by the schema, yet refused by the state it meets: a 422 naming the field is the right answer.
        excluded.append(positive_data_acceptance)
    CASES[case.operation.label] += 1
    answer = case.call_and_validate(base_url=world.portal.url, excluded_checks=excluded)
    ANSWERS[answer.status_code // 100 * 100] += 1
