"""A stateful, property-based model of a retailer and a supplier: random actions, invariants after each.

The rules drive the real portal over its API and the real simulator over its admin API; hypothesis
draws them and, on a failure, shrinks to the shortest sequence that still fails.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from contracts.statuses import STATUSES
from portal.bootstrap import PortalServer
from scenarios.drivers import ApiError, PortalClient, ShopNames, SimAdmin, set_up_shop
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile

PROFILE = {
    "catalog": {"size": 12, "changes": []},
    "lifecycle": {"processingDelay": {"min": "1m", "max": "20m"}, "acceptanceDelay": {"min": "1m", "max": "40m"}},
    "rejection": {"randomRate": 0.2},
    "stock": {"default": 400},
    "dispatch": {"notifications": {"min": 1, "max": 2}, "shortShipmentRate": 0.3, "delay": "5m", "interval": "20m"},
}
LONGEST_MS = (20 + 40 + 5 + 20 + 5) * 60_000  # past every delay of the profile, with the last notification
OBSERVABLE = {"NEW": {"PROCESSED", "REJECTED", "ACCEPTED"}, "PROCESSED": {"ACCEPTED", "REJECTED"}}


class RetailerAndSupplier(RuleBasedStateMachine):
    """Model: which portal orders exist in which state, and when each was sent (virtual time)."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.tmp = tempfile.TemporaryDirectory(prefix="orderportal-machine-")
        self.unbooked: set[int] = set()
        self.booked: set[int] = set()
        self.sent: dict[int, int] = {}  # portal order id -> virtual time it was sent
        self.now = 0
        self.products: list[str] = []

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def call(self, method: str, path: str, body: Any = None, allowed: tuple[int, ...] = ()) -> Any:
        answer = await self.api.call(method, path, body)
        shown = f"{method} {path}: {answer.status} {answer.body}"
        assert answer.status < 400 or answer.status in allowed, shown
        assert answer.status < 500, shown
        return answer.body if answer.status < 400 else None

    @initialize()
    def start(self) -> None:
        async def start() -> None:
            self.sim = SimServer(SimConfig(profile=parse_profile(PROFILE, base=None), seed=3, strict=True))
            await self.sim.start()
            self.portal = PortalServer(db_url=str(Path(self.tmp.name) / "portal.db"), sync_interval_s=None)
            await self.portal.start()
            self.session = aiohttp.ClientSession()
            self.api = PortalClient(self.session, self.portal.url)
            self.admin = SimAdmin.of(self.sim, self.session)
            shop = await set_up_shop(self.api, self.admin, "10001", names=ShopNames("S1", "Store", "W1", "W", "Sim"))
            self.house, self.supplier = shop.house, shop.supplier
            await self.api.open(self.supplier["id"], self.house["id"])
            listed = await self.api.products(self.supplier["id"], size=100)
            self.products = [p["productNumber"] for p in listed if p["active"]]
            self.clock = (await self.admin.clock())["now"]

        self.run(start())

    @property
    def cart(self) -> str:
        return f"/api/carts/{self.supplier['id']}/{self.house['id']}"

    @rule(product=st.integers(0, 7), containers=st.integers(1, 6))
    def order_by_container(self, product: int, containers: int) -> None:
        async def order() -> None:
            number = self.products[product % len(self.products)]
            if (
                await self.call("PUT", f"{self.cart}/lines/{number}", {"containers": containers}, allowed=(409,))
                is None
            ):
                return  # withdrawn since the import: refused, as it must be
            await self.call("POST", f"{self.cart}/update-products")
            made = await self.call("POST", f"{self.cart}/create-stock-orders")
            self.unbooked.add(made["id"])

        self.run(order())

    @rule(product=st.integers(0, 7), containers=st.integers(1, 6))
    def order_book_and_send(self, product: int, containers: int) -> None:
        """The whole way at once, so that short runs reach the supplier too."""
        self.order_by_container(product, containers)
        while self.unbooked:
            self.book(0)
        while self.booked:
            self.send(0)

    @precondition(lambda self: self.unbooked)
    @rule(pick=st.integers(0, 10))
    def book(self, pick: int) -> None:
        order = sorted(self.unbooked)[pick % len(self.unbooked)]
        self.run(self.call("POST", f"/api/stock-orders/{order}/book"))
        self.unbooked.discard(order)
        self.booked.add(order)

    @precondition(lambda self: self.booked)
    @rule(pick=st.integers(0, 10))
    def send(self, pick: int) -> None:
        order = sorted(self.booked)[pick % len(self.booked)]
        self.run(self.call("POST", f"/api/stock-orders/{order}/send"))
        self.booked.discard(order)
        self.sent[order] = self.now

    @rule(minutes=st.integers(1, 120))
    def advance(self, minutes: int) -> None:
        self.run(self.admin.advance(f"{minutes}m"))
        self.now += minutes * 60_000

    @rule(product=st.integers(0, 7), kind=st.sampled_from(["price", "withdraw", "barcode"]))
    def catalog_change(self, product: int, kind: str) -> None:
        change = {"kind": kind, "productNumber": self.products[product % len(self.products)]}
        self.run(self.admin.change_catalog(change))

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10), status=st.sampled_from(STATUSES))
    def force(self, pick: int, status: str) -> None:
        async def force() -> None:
            order = await self.call("GET", f"/api/stock-orders/{sorted(self.sent)[pick % len(self.sent)]}")
            try:
                await self.admin.transition(order["orderportal"]["supplierOrderId"], {"status": status})
            except ApiError as refused:
                assert refused.answer.status == 409, refused.answer.status

        self.run(force())

    @precondition(lambda self: self.sent)
    @rule()
    def poll(self) -> None:
        self.run(self.call("POST", f"/api/suppliers/{self.supplier['id']}/poll"))

    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10))
    def receive(self, pick: int) -> None:
        async def receive() -> None:
            order_id = sorted(self.sent)[pick % len(self.sent)]
            notes = await self.call("POST", f"/api/stock-orders/{order_id}/dispatch-notifications", allowed=(409,))
            for note in (notes or {}).get("items", []):
                if not note["received"]:
                    receipt = await self.call(
                        "POST", f"/api/dispatch-notifications/{note['id']}/receipt", {}, allowed=(409, 422)
                    )
                    if receipt:
                        await self.call("POST", f"/api/stock-receipts/{receipt['id']}/book")

        self.run(receive())

    @invariant()
    def every_message_met_its_contract(self) -> None:
        if hasattr(self, "sim"):
            self.sim.check()  # strict: the simulator checked each of its answers

    @invariant()
    def every_sent_order_is_at_the_supplier_exactly_once(self) -> None:
        if not hasattr(self, "sim"):
            return
        held = self.run(self.admin.orders("10001"))
        assert len(held) == len(self.sent), f"{len(held)} orders at the supplier, {len(self.sent)} sent"
        counts = Counter(h.order["orderNumber"] for h in held)
        assert all(n == 1 for n in counts.values()), counts

    @invariant()
    def histories_are_legal_quantities_add_up_and_nothing_stays_open(self) -> None:
        if not self.sent:
            return
        self.run(self._check_orders())

    async def _check_orders(self) -> None:
        stock: Counter[int] = Counter()
        for order_id, sent_at in self.sent.items():
            order = await self.call("GET", f"/api/stock-orders/{order_id}")
            seen = order["orderportal"]
            path = [h["status"] for h in seen["history"]]
            assert path[0] == "NEW" and all(b in OBSERVABLE.get(a, ()) for a, b in itertools.pairwise(path)), path
            if self.now - sent_at > LONGEST_MS:
                assert seen["status"] in ("ACCEPTED", "REJECTED"), f"{order['number']} still {seen['status']}"
            ordered = {line["lineNumber"]: line["quantity"] for line in order["lines"]}
            notes = await self.admin.dispatch_notifications(seen["supplierOrderId"])
            dispatched: Counter[int] = Counter()
            for note in notes:
                for line in note["lines"]:
                    dispatched[line["lineNumber"]] += line["quantity"]
            assert all(dispatched[n] <= q for n, q in ordered.items()), (dispatched, ordered)
            received = await self._received(order_id, stock, order)
            assert all(received[n] <= dispatched[n] for n in ordered), (received, dispatched)
        levels = await self.call("GET", f"/api/warehouses/{self.house['id']}/stock-levels")
        assert {x["productId"]: x["quantity"] for x in levels["items"]} == {k: v for k, v in stock.items() if v}

    async def _received(self, order_id: int, stock: Counter[int], order: dict[str, Any]) -> Counter[int]:
        """What the order's receipts take in per line; booked ones add to the expected stock."""
        received: Counter[int] = Counter()
        for receipt in (await self.call("GET", f"/api/stock-receipts?stockOrderId={order_id}&size=1000"))["items"]:
            for line in receipt["lines"]:
                received[line["lineNumber"]] += line["quantity"]
                if receipt["state"] == "BOOKED":
                    stock[line["productId"]] += line["quantity"]
        return received

    def teardown(self) -> None:
        async def stop() -> None:
            if hasattr(self, "session"):
                await self.session.close()
            if hasattr(self, "portal"):
                await self.portal.stop()
            if hasattr(self, "sim"):
                await self.sim.stop()

        self.run(stop())
        self.runner.close()
        self.tmp.cleanup()
