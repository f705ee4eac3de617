"""Tenant isolation: one customer's valid credential on another's path gets 403, none of its data, no change."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from yarl import URL

from contracts import contracts
from supplier_sim import SimConfig, SimServer
from supplier_sim.app import create_app
from tests.helpers import SimClient, client_for, order_body

CUSTOMER_PATH = "/api/v1/customers/{customerNumber}"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Every customer-scoped operation of Supplier API v1; the last test keeps this list complete.
ENDPOINTS = [
    ("GET", "/products"),
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/{orderId}"),
    ("GET", "/orders/{orderId}/dispatch-notifications"),
    ("PUT", "/webhook"),
    ("GET", "/webhook"),
    ("DELETE", "/webhook"),
]
# Each demo customer attacks the next one's path, so that each authentication method attacks once.
VICTIM = {"10001": "10002", "10002": "10003", "10003": "10001"}
AUTH = {"10001": "basic", "10002": "token", "10003": "api-key"}


@dataclass(frozen=True, slots=True)
class Tenant:
    """A customer with an order, a dispatch notification for it and a webhook registration."""

    client: SimClient
    order_id: str
    order_number: str
    idempotency_key: str
    body: dict[str, Any]
    hook_url: str
    hook_secret: str

    @property
    def path(self) -> str:
        return CUSTOMER_PATH.format(customerNumber=self.client.customer.number)

    def secrets(self) -> list[str]:
        """What no other customer may ever see."""
        products = [line["productNumber"] for line in self.body["lines"]]
        return [self.order_id, self.order_number, self.idempotency_key, self.hook_url, self.hook_secret, *products]

    async def state(self) -> list[tuple[int, Any]]:
        """Everything the customer can read about itself, to compare before and after."""
        reads = ["/orders", f"/orders/{self.order_id}", f"/orders/{self.order_id}/dispatch-notifications", "/webhook"]
        answers = [await self.client.call("GET", path) for path in reads]
        return [(a.status, a.body) for a in answers]


async def tenant(server: SimServer, session: aiohttp.ClientSession, number: str, label: str) -> Tenant:
    client = await client_for(server, session, number)
    if client.customer.auth == "token":
        assert (await client.login()).status == 200
    items = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    picked = [p for p in items if p["active"]][:2] if label == "victim" else [p for p in items if p["active"]][2:3]
    body = order_body(picked, number=f"SO-{label}-{number}")
    key = f"key-of-{label}-{number}"
    order = (await client.create_order(body, key=key)).body
    for status in ("PROCESSED", "ACCEPTED"):
        await server.admin(session, "POST", f"orders/{order['orderId']}/transition", json={"status": status})
    await server.admin(session, "POST", f"orders/{order['orderId']}/dispatch", json={})
    url, secret = f"http://127.0.0.1:9/{label}-{number}-receiver", f"{label}-{number}-webhook-secret-0123456789"
    assert (await client.call("PUT", "/webhook", json={"url": url, "secret": secret})).status == 200
    return Tenant(client, order["orderId"], body["orderNumber"], key, body, url, secret)


def request_for(method: str, victim: Tenant) -> dict[str, Any]:
    """The victim's own request: a replay of its order, or a new receiver, must not reach its data."""
    if method == "POST":
        return {"json": victim.body, "headers": {"Idempotency-Key": victim.idempotency_key}}
    if method == "PUT":
        return {"json": {"url": "http://127.0.0.1:9/evil", "secret": "evil-secret-0123456789"}}
    return {}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
@pytest.mark.parametrize("attacker", sorted(VICTIM), ids=[AUTH[n] for n in sorted(VICTIM)])
async def test_a_valid_credential_on_another_customers_path_gets_403_no_data_and_changes_nothing(
    start_sim, session: aiohttp.ClientSession, attacker: str, method: str, path: str
) -> None:
    server = await start_sim()
    mine = await tenant(server, session, attacker, "attacker")
    theirs = await tenant(server, session, VICTIM[attacker], "victim")
    before = (await mine.state(), await theirs.state())
    url = theirs.path + path.format(orderId=theirs.order_id)
    answer = await mine.client.call(method, url, absolute=True, **request_for(method, theirs))
    assert answer.status == 403 and "do not grant access" in answer.body["detail"]
    assert set(answer.body) == {"type", "title", "status", "detail"}
    shown = json.dumps(answer.body) + json.dumps(answer.headers)
    assert [s for s in theirs.secrets() if s in shown] == []
    assert (await mine.state(), await theirs.state()) == before
    assert server.sim.hooks.registrations[theirs.client.customer.number].secret == theirs.hook_secret


@pytest.mark.parametrize("path", [p for m, p in ENDPOINTS if m == "GET"])
async def test_head_on_another_customers_path_gets_403_too(start_sim, session, path: str) -> None:
    server = await start_sim()
    theirs = await tenant(server, session, "10002", "victim")
    north = await client_for(server, session, "10001")
    url = server.url + theirs.path + path.format(orderId=theirs.order_id)
    async with session.head(url, headers=north.auth_headers()) as response:
        assert response.status == 403
        assert response.content_type == "application/problem+json" and "Location" not in response.headers


@pytest.mark.parametrize("path", ["/orders/{orderId}", "/orders/{orderId}/dispatch-notifications"])
@pytest.mark.parametrize("attacker", sorted(VICTIM), ids=[AUTH[n] for n in sorted(VICTIM)])
async def test_another_customers_order_id_on_ones_own_path_is_not_found(
    start_sim, session, attacker: str, path: str
) -> None:
    server = await start_sim()
    mine = await tenant(server, session, attacker, "attacker")
    theirs = await tenant(server, session, VICTIM[attacker], "victim")
    answer = await mine.client.call("GET", path.format(orderId=theirs.order_id))
    assert answer.status == 404
    shown = json.dumps(answer.body)
    assert [s for s in theirs.secrets() if s in shown and s != theirs.order_id] == []


@pytest.mark.parametrize("number", ["1000%32", "%31%30%30%30%32", "10002%20", "010002", "10002%00"])
async def test_a_disguised_customer_number_is_still_someone_elses(sim: SimServer, session, number: str) -> None:
    theirs = await tenant(sim, session, "10002", "victim")
    north = await client_for(sim, session, "10001")
    url = URL(f"{sim.url}/api/v1/customers/{number}/orders", encoded=True)
    async with session.get(url, headers=north.auth_headers()) as response:
        assert response.status in (400, 403) and response.content_type == "application/problem+json"
        shown = await response.text()
    assert [s for s in theirs.secrets() if s in shown] == []


async def test_events_of_one_customers_orders_reach_only_its_own_receiver_signed_with_its_own_secret(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim({"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}})
    receivers = {number: await receiver_factory() for number in ("10001", "10003")}
    clients = {number: await client_for(server, session, number) for number in receivers}
    orders = {}
    for number, client in clients.items():
        secret = f"secret-of-{number}-0123456789"
        await client.call("PUT", "/webhook", json={"url": receivers[number].url, "secret": secret})
        items = (await client.call("GET", "/products", params={"size": "5"})).body["items"]
        body = order_body([p for p in items if p["active"]][:1], number=f"SO-{number}")
        orders[number] = (await client.create_order(body)).body["orderId"]
    await server.admin(session, "POST", "clock/advance", json={"by": "1h"})
    for number, receiver in receivers.items():
        secret = f"secret-of-{number}-0123456789".encode()
        assert receiver.received and {e["data"]["orderId"] for e in receiver.events()} == {orders[number]}
        for raw, headers in receiver.received:
            signed = headers["X-Signature-Timestamp"].encode() + b"." + raw
            assert headers["X-Signature"] == "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def test_every_customer_scoped_operation_of_the_contract_and_the_simulator_is_in_the_list() -> None:
    paths: dict[str, dict[str, Any]] = contracts().openapi["paths"]
    in_contract = {
        (method.upper(), path.removeprefix(CUSTOMER_PATH))
        for path, item in paths.items()
        if path.startswith(CUSTOMER_PATH + "/")
        for method in item
        if method in HTTP_METHODS
    }
    routes = create_app(SimConfig()).router.routes()
    served = {
        (route.method, route.resource.canonical.removeprefix(CUSTOMER_PATH))
        for route in routes
        if route.resource is not None and route.resource.canonical.startswith(CUSTOMER_PATH + "/")
    }
    listed = set(ENDPOINTS)
    assert in_contract == listed, "a customer-scoped operation of the contract has no isolation test"
    heads = {("HEAD", p) for m, p in ENDPOINTS if m == "GET"}  # aiohttp answers HEAD on every GET route
    assert served == listed | heads, "a customer-scoped route of the simulator has no isolation test"
