"""Bodies no parser should choke on: deep nesting and lone surrogates get a 4xx problem on every JSON route of both
apps, the journal keeps and serves them, and the portal takes JSON only as application/json."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import aiohttp
import pytest

from contracts.bodies import MAX_DEPTH
from contracts.loader import portal_openapi
from contracts.redaction import redacted_body
from contracts.signing import signed_headers
from supplier_sim import SimServer
from tests.conftest import Shop
from tests.helpers import client_for, order_body

DEEP = {
    "just over the limit": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    "past the schema validator's 256 levels": b'{"a":' * 300 + b"1" + b"}" * 300,
    "past orjson's 1024 levels": b"[" * 2000 + b"]" * 2000,
}
SURROGATES = {
    "an escaped lone high surrogate": b'{"username": "\\ud800", "password": "p"}',
    "an escaped lone low surrogate": b'{"username": "\\udc00x", "password": "p"}',
    "a raw surrogate, not UTF-8": b'{"username": "\xed\xa0\x80", "password": "p"}',
}
HOSTILE = {**DEEP, **SURROGATES}
BODILESS = {"admin.expire-tokens", "admin.reset"}  # simulator writes that read no body


async def send(
    session: aiohttp.ClientSession, method: str, url: str, raw: bytes, headers: dict[str, str] | None = None
) -> tuple[int, str, Any]:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    async with session.request(method, url, data=raw, headers=all_headers) as response:
        return response.status, response.content_type, await response.json(content_type=None)


def sim_writes(server: SimServer, order_id: str) -> list[tuple[str, str]]:
    """Every route of the simulator that takes a body, with real path parameters."""
    found = []
    for route in server.app.router.routes():
        if route.method in {"POST", "PUT", "PATCH"} and route.name not in BODILESS:
            path = route.resource.canonical if route.resource else ""
            path = re.sub(r"\{(customerNumber|number)\}", "10003", path).replace("{orderId}", order_id)
            found.append((route.method, path))
    return sorted(found)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_deep_or_surrogate_json_gets_400_on_every_simulator_route_and_the_journal_serves_it(
    sim: SimServer, session: aiohttp.ClientSession, kind: str
) -> None:
    east = await client_for(sim, session, "10003")
    items = (await east.call("GET", "/products", params={"size": "5"})).body["items"]
    order = await east.create_order(order_body([p for p in items if p["active"]][:1]))
    writes = sim_writes(sim, order.body["orderId"])
    assert len(writes) == 10
    for method, path in writes:
        headers = {"Idempotency-Key": "deep", **east.auth_headers()}
        status, content_type, body = await send(session, method, sim.url + path, HOSTILE[kind], headers)
        assert (status, content_type) == (400, "application/problem+json"), (method, path, body)
        assert ("deeper than" in body["detail"]) == (kind in DEEP), body["detail"]
    journal = (await sim.admin(session, "GET", "journal", params={"limit": "1000"}))["items"]
    refused = [e for e in journal if e["status"] == 400]
    assert len(refused) == len(writes)
    assert {e["request"]["body"] for e in refused} == {f"<{len(HOSTILE[kind])} bytes, refused, not shown>"}


@pytest.mark.parametrize(
    "raw",
    [b"[" * 2000 + b"]" * 2000, b"[" * 100 + b"]" * 100, b'name: "Lone \\ud800"\ncatalog: {size: 5, changes: []}\n'],
    ids=["past Python's recursion limit", "past the depth limit", "with an escaped lone surrogate"],
)
async def test_a_yaml_profile_that_is_deep_or_holds_a_lone_surrogate_gets_400_and_changes_nothing(
    sim: SimServer, session: aiohttp.ClientSession, raw: bytes
) -> None:
    before = sim.sim.profile
    headers = {"Content-Type": "application/yaml"}
    status, content_type, body = await send(session, "PUT", f"{sim.url}/_sim/profile", raw, headers)
    assert (status, content_type) == (400, "application/problem+json"), body
    assert sim.sim.profile == before


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_recorded_body_that_is_deep_or_holds_a_surrogate_is_shown_by_its_size(kind: str) -> None:
    shown = redacted_body(HOSTILE[kind])
    assert shown in (f"<{len(HOSTILE[kind])} bytes, not JSON>", f"<{len(HOSTILE[kind])} bytes, JSON nested too deep>")
    assert json.dumps(shown)  # whatever it shows can be encoded again


def portal_writes(shop: Shop) -> list[tuple[str, str]]:
    """Every operation of the portal's document that takes a body, with ids of the shop's own records."""
    ids = {
        "{id}": str(shop.customer["id"]),
        "{supplier}": str(shop.supplier["id"]),
        "{warehouse}": str(shop.house["id"]),
        "{product}": "P1",
    }
    found = []
    for path, item in portal_openapi()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                for name, value in ids.items():
                    path = path.replace(name, value)
                found.append((method.upper(), path))
    return sorted(found)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_deep_or_surrogate_json_gets_a_4xx_problem_on_every_portal_route(shop: Shop, kind: str) -> None:
    writes = [w for w in portal_writes(shop) if not w[1].startswith("/api/webhooks/")]
    assert len(writes) >= 10
    before = await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}")
    for method, path in writes:
        status, content_type, body = await send(shop.api.session, method, shop.portal.url + path, HOSTILE[kind])
        assert (status, content_type) == (400, "application/problem+json"), (method, path, body)
        assert ("deeper than" in body["detail"]) == (kind in DEEP), body["detail"]
    assert await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}") == before


def deep_event(depth: int) -> bytes:
    data = b'{"x":' * depth + b"1" + b"}" * depth
    return b'{"eventId": "e", "type": "order.status_changed", "occurredAt": "2026-01-05T08:00:00Z", "data": %s}' % data


SIGNED_EVENTS = {
    "nested 300 levels": deep_event(300),
    "nested past orjson's limit": deep_event(1100),
    "with an escaped lone surrogate": b'{"eventId": "e\\ud800", "type": "order.status_changed", '
    b'"occurredAt": "2026-01-05T08:00:00Z", "data": {}}',
}


@pytest.mark.parametrize("kind", sorted(SIGNED_EVENTS))
async def test_a_validly_signed_webhook_that_is_deep_or_holds_a_lone_surrogate_gets_422(shop: Shop, kind: str) -> None:
    raw = SIGNED_EVENTS[kind]
    secret = await shop.portal.state().webhook_secret(shop.customer["id"])
    headers = signed_headers(secret or "", raw, int(time.time()))
    url = f"{shop.portal.url}/api/webhooks/{shop.customer['id']}"
    status, content_type, body = await send(shop.api.session, "POST", url, raw, headers)
    assert (status, content_type) == (422, "application/problem+json"), body
    assert "not valid JSON" in body["detail"] or "deeper than" in body["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
async def test_the_portal_takes_a_body_only_as_application_json(shop: Shop, content_type: str) -> None:
    before = await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}")
    for method, path in portal_writes(shop):
        headers = {"Content-Type": content_type}
        raw = json.dumps({"code": "CSRF", "name": "Cross-site"}).encode()
        async with shop.api.session.request(method, shop.portal.url + path, data=raw, headers=headers) as response:
            body = await response.json(content_type=None)
            assert (response.status, response.content_type) == (415, "application/problem+json"), (path, body)
            assert "application/json" in body["detail"]
    assert await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}") == before


async def test_json_with_a_charset_is_taken(shop: Shop) -> None:
    raw = json.dumps({"code": "UTF8", "name": "Grüße"}).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    async with shop.api.session.post(f"{shop.portal.url}/api/org-units", data=raw, headers=headers) as response:
        assert response.status == 201, await response.text()
