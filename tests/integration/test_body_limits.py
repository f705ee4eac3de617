"""Request bodies over 1 MiB, however they come, get a 413 problem on both apps and change nothing."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from portal.entrypoints.app import MAX_BODY as PORTAL_MAX_BODY
from supplier_sim import SimServer
from supplier_sim.config import MAX_BODY as SIM_MAX_BODY
from tests.conftest import Shop
from tests.helpers import client_for, order_body

MIB = 1024 * 1024
HOOK = {"url": "http://127.0.0.1:9/evil", "secret": "evil-secret-0123456789"}


def padded(body: Any, size: int) -> bytes:
    """``body`` as JSON of exactly ``size`` bytes: valid, so that only its size can refuse it."""
    raw = json.dumps(body).encode()
    assert raw.endswith(b"}") and len(raw) < size
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


async def chunks(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), 64 * 1024):
        yield raw[start : start + 64 * 1024]


# How an oversized body reaches the server: with its length, chunked without one, or small but compressed.
SENDS: dict[str, Callable[[bytes], tuple[Any, dict[str, str]]]] = {
    "content-length": lambda raw: (io.BytesIO(raw), {}),
    "chunked": lambda raw: (chunks(raw), {}),
    "gzip-bomb": lambda raw: (gzip.compress(raw + b" " * (8 * MIB)), {"Content-Encoding": "gzip"}),
    "deflate-bomb": lambda raw: (zlib.compress(raw + b" " * (8 * MIB)), {"Content-Encoding": "deflate"}),
}


async def send(
    session: aiohttp.ClientSession, method: str, url: str, raw: bytes, how: str, headers: dict[str, str]
) -> tuple[int, str, Any]:
    data, extra = SENDS[how](raw)
    all_headers = {"Content-Type": "application/json", **headers, **extra}
    async with session.request(method, url, data=data, headers=all_headers) as response:
        return response.status, response.content_type, await response.json(content_type=None)


def assert_too_large(status: int, content_type: str, body: Any) -> None:
    assert (status, content_type) == (413, "application/problem+json"), (status, body)
    assert body["status"] == 413 and "larger than 1 MiB" in body["detail"]


async def sim_state(server: SimServer, session: aiohttp.ClientSession) -> tuple[Any, ...]:
    east = await client_for(server, session, "10003")
    return (
        (await server.admin(session, "GET", "clock"))["now"],
        len(server.sim.auth.tokens),
        (await east.call("GET", "/orders")).body,
        dict(server.sim.hooks.registrations),
        server.sim.profile,
    )


# Each write of the simulator with a body that it would take, were it not too large.
SIM_WRITES = {
    "auth": ("POST", "/api/v1/auth", {"username": "south-market", "password": "south-demo-pass-2"}),
    "order": ("POST", "/api/v1/customers/10003/orders", None),
    "webhook": ("PUT", "/api/v1/customers/10003/webhook", HOOK),
    "profile": ("PUT", "/_sim/profile", {"catalog": {"size": 5, "changes": []}}),
    "clock": ("POST", "/_sim/clock/advance", {"by": "1h"}),
}


def test_both_apps_read_bodies_up_to_1_mib() -> None:
    assert SIM_MAX_BODY == PORTAL_MAX_BODY == MIB


@pytest.mark.parametrize("write", sorted(SIM_WRITES))
@pytest.mark.parametrize("how", sorted(SENDS))
async def test_an_oversized_body_to_the_simulator_gets_413_and_changes_nothing(
    sim: SimServer, session: aiohttp.ClientSession, write: str, how: str
) -> None:
    east = await client_for(sim, session, "10003")
    await east.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s" * 20})
    method, path, body = SIM_WRITES[write]
    if body is None:
        items = (await east.call("GET", "/products", params={"size": "5"})).body["items"]
        body = order_body([p for p in items if p["active"]][:1])
    before = await sim_state(sim, session)
    headers = {"Idempotency-Key": "big", **east.auth_headers()}
    assert_too_large(*await send(session, method, sim.url + path, padded(body, MIB + 1), how, headers))
    assert await sim_state(sim, session) == before


async def test_a_body_of_exactly_1_mib_reaches_the_simulator(sim: SimServer, session) -> None:
    east = await client_for(sim, session, "10003")
    status, _, body = await send(
        session, "PUT", f"{east.base}/webhook", padded(HOOK, MIB), "content-length", east.auth_headers()
    )
    assert status == 200 and body["url"] == HOOK["url"]


async def portal_state(shop: Shop) -> tuple[Any, ...]:
    async with shop.portal.portal.uow() as uow:
        units = [(u.code, u.name) for u in await uow.org_units.all()]
        customers = [
            (c.auth_method, c.username, c.password, c.api_key, c.webhook_secret, c.state)
            for c in await uow.customers.all()
        ]
    violations = await shop.api.ok("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations")
    return units, customers, await shop.api.ok("GET", shop.cart), violations


def portal_writes(shop: Shop, product: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Each kind of portal write with a body that it would take, were it not too large."""
    customer = f"/api/customer-numbers/{shop.customer['id']}"
    event = {"eventId": "big", "type": "order.status_changed", "occurredAt": "2026-01-05T08:00:00.000Z", "data": {}}
    password = {"authMethod": "basic", "username": "north-market", "password": "another-password-1"}
    return {
        "org-unit": ("POST", "/api/org-units", {"code": "BIG", "name": "Big"}),
        "cart-line": ("PUT", f"{shop.cart}/lines/{product}", {"containers": 3}),
        "credentials": ("PATCH", customer, password),
        "webhook": ("POST", f"/api/webhooks/{shop.customer['id']}", event),
    }


@pytest.mark.parametrize(
    ("write", "how"),
    [(w, "content-length") for w in ("org-unit", "cart-line", "credentials", "webhook")]
    + [("cart-line", how) for how in ("chunked", "gzip-bomb", "deflate-bomb")],
)
async def test_an_oversized_body_to_the_portal_gets_413_and_changes_nothing(shop: Shop, write: str, how: str) -> None:
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    await shop.api.ok("PUT", f"{shop.cart}/lines/{product}", {"containers": 1})
    method, path, body = portal_writes(shop, product)[write]
    before = await portal_state(shop)
    assert_too_large(*await send(shop.api.session, method, shop.portal.url + path, padded(body, MIB + 1), how, {}))
    assert await portal_state(shop) == before


async def test_a_body_of_exactly_1_mib_reaches_the_portal(shop: Shop) -> None:
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    url = f"{shop.portal.url}{shop.cart}/lines/{product}"
    status, _, cart = await send(shop.api.session, "PUT", url, padded({"containers": 2}, MIB), "content-length", {})
    assert status == 200 and cart["lines"] == [{"productNumber": product, "containers": 2}]
