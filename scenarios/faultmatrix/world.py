"""One cell's world: the simulator, reset; a fresh portal; a shop set up through the portal's API as a user does."""

from __future__ import annotations

from typing import Any

import aiohttp

from contracts.wire import basic_authorization
from portal.bootstrap import PortalServer
from scenarios.drivers import Answer, ApiError, PortalClient, ShopNames, SimAdmin, set_up_shop
from scenarios.faultmatrix.faults import FAILING_KINDS
from supplier_sim import SimServer

CUSTOMER = "10001"  # HTTP Basic: every request of the shop names its customer number


class CellBroken(Exception):
    """A step that had to succeed did not: the cell's outcome says what the portal answered instead."""


class World:
    """A portal coupled to the simulator as customer 10001; it keeps every answer, for the invariants."""

    def __init__(
        self, sim: SimServer, portal: PortalServer, session: aiohttp.ClientSession, rules: list[dict[str, Any]]
    ) -> None:
        self.sim, self.portal, self.rules = sim, portal, rules
        self.answers: list[Answer] = []
        self.api = PortalClient(session, portal.url, observe=self.answers.append)
        self.admin = SimAdmin.of(sim, session)
        self.failed_requests = 0  # Supplier API requests that a failing fault hit, over every time it was on
        self.orders: list[int] = []
        self.unit: dict[str, Any] = {}
        self.house: dict[str, Any] = {}
        self.supplier: dict[str, Any] = {}
        self.customer: dict[str, Any] = {}

    async def call(self, method: str, path: str, body: Any = None) -> Answer:
        return await self.api.call(method, path, body)

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return await self.api.ok(method, path, body)
        except ApiError as exc:
            raise CellBroken(str(exc)) from None

    async def fault_on(self) -> None:
        await self.admin.set_faults(self.rules)

    async def fault_off(self) -> None:
        """Lift the fault, counting first the requests it made fail (new rules start their counts again)."""
        self.failed_requests += await self.failing_hits()
        await self.admin.set_faults([])

    async def failing_hits(self) -> int:
        return sum(hits for rule, hits in await self.admin.fault_hits() if rule.get("kind") in FAILING_KINDS)

    async def advance(self, by: str) -> None:
        await self.admin.advance(by)

    async def sync(self) -> dict[str, dict[str, int]]:
        """One round of the portal's worker."""
        return await self.portal.sync()

    async def shop(self) -> None:
        """An org unit, its warehouse, the supplier and customer number 10001, not coupled yet."""
        names = ShopNames("STORE", "Store", "MAIN", "Main", "Simulated supplier")
        try:
            shop = await set_up_shop(self.api, self.admin, CUSTOMER, names=names, couple=False)
        except ApiError as exc:
            raise CellBroken(str(exc)) from None
        self.unit, self.house, self.supplier, self.customer = shop.unit, shop.house, shop.supplier, shop.customer

    @property
    def couple_path(self) -> str:
        return f"/api/customer-numbers/{self.customer['id']}/couple"

    @property
    def open_body(self) -> dict[str, int]:
        return {"supplierId": self.supplier["id"], "warehouseId": self.house["id"]}

    async def coupled(self) -> None:
        await self.shop()
        await self.ok("POST", self.couple_path)

    async def opened(self) -> None:
        await self.coupled()
        await self.ok("POST", "/api/orderportal/open", self.open_body)

    async def catalog_size(self) -> int:
        return int((await self.ok("GET", f"/api/suppliers/{self.supplier['id']}/products?size=1"))["total"])

    async def booked(self) -> dict[str, Any]:
        """A booked stock order of two containers of the supplier's first active product."""
        await self.opened()
        products = (await self.ok("GET", f"/api/suppliers/{self.supplier['id']}/products?size=1000"))["items"]
        number = next(p["productNumber"] for p in products if p["active"])
        cart = f"/api/carts/{self.supplier['id']}/{self.house['id']}"
        await self.ok("PUT", f"{cart}/lines/{number}", {"containers": 2})
        await self.ok("POST", f"{cart}/update-products")
        order = await self.ok("POST", f"{cart}/create-stock-orders")
        self.orders.append(order["id"])
        return dict(await self.ok("POST", f"/api/stock-orders/{order['id']}/book"))

    async def sent(self) -> dict[str, Any]:
        order = await self.booked()
        sent = await self.call("POST", f"/api/stock-orders/{order['id']}/send")
        if sent.status != 200:
            raise CellBroken(f"sending answered {sent.problem}")
        return dict(sent.body)

    async def accepted(self) -> dict[str, Any]:
        """A sent order that the supplier accepted and the portal knows is accepted."""
        order = await self.sent()
        await self.advance("1h")
        if not self.portal.webhooks:
            await self.sync()
        if await self.status(order["id"]) != "ACCEPTED":
            raise CellBroken("the order was not accepted before the fault")
        return order

    async def order(self, order_id: int) -> dict[str, Any]:
        return dict(await self.ok("GET", f"/api/stock-orders/{order_id}"))

    async def status(self, order_id: int) -> str | None:
        return (await self.order(order_id))["orderportal"]["status"]

    async def violations(self) -> list[dict[str, Any]]:
        return list((await self.ok("GET", f"/api/suppliers/{self.supplier['id']}/contract-violations"))["items"])

    async def deliveries(self) -> list[dict[str, Any]]:
        return await self.admin.deliveries()

    async def notes(self, order_id: int) -> tuple[str, ...]:
        """The dispatch notifications of the order that the portal holds, by their supplier's ids."""
        held = await self.ok("GET", f"/api/dispatch-notifications?stockOrderId={order_id}&size=1000")
        return tuple(sorted(note["notificationId"] for note in held["items"]))

    async def notes_at_supplier(self, supplier_order_id: str) -> tuple[str, ...]:
        notes = await self.admin.dispatch_notifications(supplier_order_id)
        return tuple(sorted(note["dispatchNotificationId"] for note in notes))

    async def products_at_supplier(self) -> int:
        return (await self.admin.catalog())["products"]

    async def at_supplier(self, number: str) -> int:
        """How many orders with this order number the supplier holds."""
        return len(await self.admin.orders(order_number=number))

    async def broken(self) -> list[str]:
        """The invariants every cell keeps, once its fault is lifted: each that does not hold, in words."""
        # 502 is the supplier's failure, told as a problem; any other 5xx is the portal's own.
        found = [f"{a.method} {a.path} answered {a.problem}" for a in self.answers if _portal_failed(a)]
        found += [f"{a.method} {a.path}: {a.status} as {a.content_type}" for a in self.answers if _not_problem(a)]
        secrets = await self.secrets()
        found += [f"a secret in the answer to {a.method} {a.path}" for a in self.answers if _leaks(a, secrets)]
        for order_id in self.orders:
            order = await self.call("GET", f"/api/stock-orders/{order_id}")
            if order.status != 200:
                found.append(f"stock order {order_id} is gone")
                continue
            held = await self.at_supplier(order.body["number"])
            if held != (1 if order.body["state"] == "SENT" else 0):
                found.append(f"{order.body['state']} order held {held} times at the supplier")
            if order.body["outbox"] is not None:
                found.append("the order still waits in the outbox")
        try:
            self.sim.check()
        except AssertionError as exc:
            found.append(str(exc).splitlines()[0])
        return found

    async def secrets(self) -> list[bytes]:
        """The password, its Basic header and the webhook secret the portal gave the supplier."""
        login = await self.admin.credentials(CUSTOMER)
        header = basic_authorization(login.username or "", login.password or "").split()[-1]
        webhook = await self.portal.state().webhook_secret(self.customer["id"]) if self.customer else None
        return [s.encode() for s in (login.password, header, webhook) if s]


def _portal_failed(answer: Answer) -> bool:
    return answer.status >= 500 and answer.status != 502


def _not_problem(answer: Answer) -> bool:
    return answer.status >= 400 and answer.content_type != "application/problem+json"


def _leaks(answer: Answer, secrets: list[bytes]) -> bool:
    return any(secret in answer.raw for secret in secrets)
