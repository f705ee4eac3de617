"""One typed client per app: the portal's HTTP API and the simulator's admin API, and the shop set-up, once.

Everything that drives the two apps from outside (the scenarios, the model, the fault matrix, the demo,
the benchmarks and the test fixtures) goes through these, never through an app's tables or objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from supplier_sim import SimServer

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Answer:
    """One exchange with an app: what was asked, and the answer as it came, decoded when it is JSON."""

    method: str
    path: str
    request: Any = field(repr=False)  # it may hold a password: a failed assertion prints the repr
    status: int
    content_type: str
    headers: dict[str, str]
    body: Any
    raw: bytes

    @property
    def detail(self) -> str:
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""

    @property
    def problem(self) -> str:
        """``502 supplier-problem``: the status and the last part of the problem's type."""
        kind = str(self.body.get("type", "")) if isinstance(self.body, dict) else ""
        return f"{self.status} {kind.rsplit('/', 1)[-1]}".strip()

    @property
    def pointers(self) -> list[str]:
        """The fields a problem names."""
        return [e["pointer"] for e in self.body.get("errors", [])] if isinstance(self.body, dict) else []


class ApiError(Exception):
    """An error answer where the caller needed a success; it names the call and keeps the answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(f"{answer.method} {answer.path} answered {answer.problem}: {answer.detail}"[:300])
        self.answer = answer


class NotAProblem(AssertionError):
    """A strict client got an error answer that is not a well-formed application/problem+json."""


class NotJson(AssertionError):
    """A strict client got an answer that says it is JSON and does not parse."""


async def exchange(
    session: aiohttp.ClientSession, method: str, url: str, path: str, body: Any, **kwargs: Any
) -> Answer:
    async with session.request(method, url, json=body, **kwargs) as response:
        raw = await response.read()
        status, content_type, headers = response.status, response.content_type, dict(response.headers)
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw[:500].decode("utf-8", "replace")
    return Answer(method, path, body, status, content_type, headers, decoded, raw)


class PortalClient:
    """The portal's HTTP API; ``strict`` insists that every error answer is a problem naming its status."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        strict: bool = False,
        observe: Callable[[Answer], None] | None = None,
    ) -> None:
        self.session, self.url, self.strict, self._observe = session, url.rstrip("/"), strict, observe

    async def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Answer:
        answer = await exchange(self.session, method, self.url + path, path, body, **kwargs)
        if self._observe is not None:
            self._observe(answer)
        if self.strict and answer.status >= 400:
            well_formed = answer.content_type == PROBLEM_JSON and isinstance(answer.body, dict)
            if not (well_formed and answer.body.get("status") == answer.status and answer.detail):
                raise NotAProblem(answer)
        if self.strict and answer.content_type == "application/json" and isinstance(answer.body, str):
            raise NotJson(answer)
        return answer

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The answer's body; ApiError on an error answer."""
        answer = await self.call(method, path, body, **kwargs)
        if answer.status >= 400:
            raise ApiError(answer)
        return answer.body

    async def create_org_unit(self, code: str, name: str) -> dict[str, Any]:
        return dict(await self.ok("POST", "/api/org-units", {"code": code, "name": name}))

    async def create_warehouse(self, code: str, name: str, unit_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", "/api/warehouses", {"code": code, "name": name, "orgUnitId": unit_id}))

    async def create_supplier(self, name: str, interface: str, base_url: str) -> dict[str, Any]:
        new = {"name": name, "orderInterface": interface, "baseUrl": base_url}
        return dict(await self.ok("POST", "/api/suppliers", new))

    async def register_customer_number(self, supplier_id: int, unit_id: int, login: Login) -> dict[str, Any]:
        body = {"supplierId": supplier_id, "orgUnitId": unit_id, **login.fields()}
        return dict(await self.ok("POST", "/api/customer-numbers", body))

    async def couple(self, customer_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/customer-numbers/{customer_id}/couple"))

    async def open(self, supplier_id: int, warehouse_id: int) -> dict[str, Any]:
        body = {"supplierId": supplier_id, "warehouseId": warehouse_id}
        return dict(await self.ok("POST", "/api/orderportal/open", body))

    async def products(self, supplier_id: int, size: int = 1000) -> list[dict[str, Any]]:
        return list((await self.ok("GET", f"/api/suppliers/{supplier_id}/products?size={size}"))["items"])

    async def put_in_cart(self, cart: str, product_number: str, containers: int) -> dict[str, Any]:
        return dict(await self.ok("PUT", f"{cart}/lines/{product_number}", {"containers": containers}))

    async def update_products(self, cart: str) -> dict[str, Any]:
        return dict(await self.ok("POST", f"{cart}/update-products"))

    async def create_stock_orders(self, cart: str) -> dict[str, Any]:
        return dict(await self.ok("POST", f"{cart}/create-stock-orders"))

    async def stock_order(self, order_id: int) -> dict[str, Any]:
        return dict(await self.ok("GET", f"/api/stock-orders/{order_id}"))

    async def book(self, order_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/stock-orders/{order_id}/book"))

    async def send(self, order_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/stock-orders/{order_id}/send"))

    async def poll(self, supplier_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/suppliers/{supplier_id}/poll"))

    async def sync(self) -> dict[str, Any]:
        """One round of the portal's worker, over its API."""
        return dict(await self.ok("POST", "/api/sync"))

    async def dispatch_notifications(self, order_id: int) -> list[dict[str, Any]]:
        return list((await self.ok("POST", f"/api/stock-orders/{order_id}/dispatch-notifications"))["items"])

    async def receive(self, notification_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/dispatch-notifications/{notification_id}/receipt", {}))

    async def book_receipt(self, receipt_id: int) -> dict[str, Any]:
        return dict(await self.ok("POST", f"/api/stock-receipts/{receipt_id}/book"))

    async def stock_levels(self, warehouse_id: int) -> list[dict[str, Any]]:
        return list((await self.ok("GET", f"/api/warehouses/{warehouse_id}/stock-levels"))["items"])

    async def violations(self, supplier_id: int) -> list[dict[str, Any]]:
        return list((await self.ok("GET", f"/api/suppliers/{supplier_id}/contract-violations"))["items"])


@dataclass(frozen=True, slots=True)
class Login:
    """How a customer signs in at the supplier, as its admin API tells a harness."""

    number: str
    auth: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    def fields(self) -> dict[str, Any]:
        """The customer number's fields of the portal's API for this login."""
        if self.auth == "api-key":
            return {"number": self.number, "authMethod": self.auth, "apiKey": self.api_key}
        return {"number": self.number, "authMethod": self.auth, "username": self.username, "password": self.password}


@dataclass(frozen=True, slots=True)
class HeldOrder:
    """An order the supplier holds, with the Idempotency-Key it arrived with."""

    order: dict[str, Any]
    idempotency_key: str


class SimAdmin:
    """The simulator's admin API under /_sim/."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str | None = None) -> None:
        self.session, self.url = session, url.rstrip("/")
        self._headers = {"X-Admin-Token": token} if token else {}

    @classmethod
    def of(cls, server: SimServer, session: aiohttp.ClientSession) -> SimAdmin:
        return cls(session, server.url, server.config.admin_token)

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The answer's body; ApiError on an error answer."""
        target = f"/_sim/{path.lstrip('/')}"
        answer = await exchange(self.session, method, self.url + target, target, body, headers=self._headers, **kwargs)
        if answer.status >= 400:
            raise ApiError(answer)
        return answer.body

    async def clock(self) -> dict[str, Any]:
        return dict(await self.ok("GET", "clock"))

    async def advance(self, by: str) -> dict[str, Any]:
        return dict(await self.ok("POST", "clock/advance", {"by": by}))

    async def reset(self, seed: int) -> dict[str, Any]:
        return dict(await self.ok("POST", "reset", params={"seed": str(seed)}))

    async def set_faults(self, rules: list[dict[str, Any]]) -> None:
        await self.ok("PUT", "faults", rules)

    async def fault_hits(self) -> list[tuple[dict[str, Any], int]]:
        """Each fault rule as written, with how many requests or events it hit since it was set."""
        return [(item["rule"], item["hits"]) for item in (await self.ok("GET", "faults/hits"))["items"]]

    async def transition(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.ok("POST", f"orders/{order_id}/transition", body))

    async def dispatch(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.ok("POST", f"orders/{order_id}/dispatch", body))

    async def change_catalog(self, change: dict[str, Any]) -> dict[str, Any]:
        return dict(await self.ok("POST", "catalog/changes", change))

    async def journal(self) -> list[dict[str, Any]]:
        return list((await self.ok("GET", "journal"))["items"])

    async def deliveries(self) -> list[dict[str, Any]]:
        return list((await self.ok("GET", "webhooks/deliveries"))["items"])

    async def credentials(self, number: str) -> Login:
        found = await self.ok("GET", f"customers/{number}/credentials")
        return Login(number, found["auth"], found.get("username"), found.get("password"), found.get("apiKey"))

    async def change_password(self, number: str, password: str) -> None:
        """The supplier rotates the customer's password: the old one is refused from now on."""
        await self.ok("PUT", f"customers/{number}/credentials", {"password": password})

    async def orders(self, customer: str | None = None, order_number: str | None = None) -> list[HeldOrder]:
        """The orders the supplier holds, oldest first."""
        query = {k: v for k, v in (("customer", customer), ("orderNumber", order_number)) if v is not None}
        items = (await self.ok("GET", "orders", params=query))["items"]
        return [HeldOrder(item["order"], item["idempotencyKey"]) for item in items]

    async def dispatch_notifications(self, order_id: str) -> list[dict[str, Any]]:
        return list((await self.ok("GET", f"orders/{order_id}/dispatch-notifications"))["items"])

    async def catalog(self) -> dict[str, int]:
        """How many products the catalog holds, and how many are active."""
        return dict(await self.ok("GET", "catalog"))

    async def expire_tokens(self) -> int:
        """Forget every bearer token, as a restart of the supplier would."""
        return int((await self.ok("POST", "auth/expire-tokens"))["expired"])


@dataclass(frozen=True, slots=True)
class ShopNames:
    unit_code: str
    unit_name: str
    house_code: str
    house_name: str
    supplier: str

    @classmethod
    def of(cls, number: str) -> ShopNames:
        return cls(f"S-{number}", f"Store of {number}", f"W-{number}", "Warehouse", f"Sim for {number}")


@dataclass(frozen=True, slots=True)
class Shop:
    """An org unit, its warehouse, a supplier and the customer number there, as the portal's API showed them."""

    unit: dict[str, Any]
    house: dict[str, Any]
    supplier: dict[str, Any]
    customer: dict[str, Any]

    @property
    def cart(self) -> str:
        return f"/api/carts/{self.supplier['id']}/{self.house['id']}"


async def set_up_shop(
    portal: PortalClient,
    sim: SimAdmin,
    number: str,
    *,
    names: ShopNames | None = None,
    interface: str = "ORDERPORTAL",
    login: Login | None = None,
    couple: bool = True,
) -> Shop:
    """A shop set up over the portal's API as a user does it, with the customer's login from the simulator."""
    names = names or ShopNames.of(number)
    login = login or await sim.credentials(number)
    unit = await portal.create_org_unit(names.unit_code, names.unit_name)
    house = await portal.create_warehouse(names.house_code, names.house_name, unit["id"])
    supplier = await portal.create_supplier(names.supplier, interface, sim.url)
    customer = await portal.register_customer_number(supplier["id"], unit["id"], login)
    if couple:
        customer = await portal.couple(customer["id"])
    return Shop(unit, house, supplier, customer)
