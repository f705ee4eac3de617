"""What the tests share: a client for the simulator's Supplier API, as a customer, that checks every answer it gets."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from contracts import contracts
from contracts.wire import basic_authorization
from scenarios.drivers import Answer, Login, PortalClient, SimAdmin, exchange
from supplier_sim import SimServer

_keys = itertools.count(1)


def unique_key(prefix: str = "key") -> str:
    return f"{prefix}-{next(_keys)}"


@dataclass
class SimClient:
    """Talks to one simulator as one customer; asserts every problem answer is problem+json."""

    server: SimServer
    session: aiohttp.ClientSession
    customer: Login
    token: str | None = field(default=None)

    @property
    def base(self) -> str:
        return f"{self.server.url}/api/v1/customers/{self.customer.number}"

    def auth_headers(self) -> dict[str, str]:
        c = self.customer
        if c.auth == "api-key":
            return {"X-Api-Key": c.api_key or ""}
        if c.auth == "token":
            return {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {"Authorization": basic_authorization(c.username or "", c.password or "")}

    async def login(self) -> Answer:
        answer = await self.call(
            "POST",
            "/api/v1/auth",
            json={"username": self.customer.username, "password": self.customer.password},
            absolute=True,
            auth=False,
        )
        if answer.status == 200:
            self.token = answer.body["token"]
        return answer

    async def call(
        self,
        method: str,
        path: str,
        *,
        absolute: bool = False,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        url = (self.server.url + path) if absolute else (self.base + path)
        all_headers = {**(self.auth_headers() if auth else {}), **(headers or {})}
        body = kwargs.pop("json", None)
        answer = await exchange(self.session, method, url, path, body, headers=all_headers, **kwargs)
        if answer.status >= 400:
            assert answer.content_type == "application/problem+json", answer
            contracts().validate("problem", answer.body)
            assert answer.body["status"] == answer.status
        return answer

    async def create_order(self, body: dict[str, Any], key: str | None = None) -> Answer:
        return await self.call("POST", "/orders", json=body, headers={"Idempotency-Key": key or unique_key()})

    async def advance(self, by: str) -> dict[str, Any]:
        return await self.server.admin(self.session, "POST", "clock/advance", json={"by": by})


def order_body(products: list[dict[str, Any]], number: str = "SO-1", containers: int = 2) -> dict[str, Any]:
    """A well-formed order for these catalog products."""
    return {
        "orderNumber": number,
        "orgUnit": "store-1",
        "warehouse": {"id": "W1", "name": "Main warehouse"},
        "lines": [
            {
                "lineNumber": i,
                "productNumber": p["productNumber"],
                "containers": containers,
                "containerAmount": p["containerAmount"],
                "quantity": containers * p["containerAmount"],
            }
            for i, p in enumerate(products, start=1)
        ],
    }


async def client_for(server: SimServer, session: aiohttp.ClientSession, number: str) -> SimClient:
    """A client of this customer, with the login the simulator's admin API gives."""
    return SimClient(server, session, await SimAdmin.of(server, session).credentials(number))


def portal_api(url: str, session: aiohttp.ClientSession) -> PortalClient:
    """The portal's API as a test uses it: every error answer must be problem+json naming its status."""
    return PortalClient(session, url, strict=True)


async def held_orders(admin: SimAdmin, customer: str = "10001") -> tuple[list[dict[str, Any]], int]:
    """The orders the supplier holds for the customer, oldest first, and how many, by its admin API."""
    held = [h.order for h in await admin.orders(customer)]
    return held, len(held)
