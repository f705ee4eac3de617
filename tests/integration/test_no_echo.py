"""A secret in any position of a malformed body is never echoed: not in an answer, the journal or a log."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from supplier_sim import SimServer
from tests.conftest import Shop
from tests.helpers import client_for

SECRET = "hunter2-Leak-5f0c1a9e77d3"


def placed(value: Any) -> list[Any]:
    """The secret in the wrong shape where ``value`` belongs: wrapped, nested, too long, with a NUL, a number."""
    return [[value], {"v": value}, [[{"deep": value}]], value * 20, value + "\u0000", 12345]


def malformed(valid: dict[str, Any], secret_fields: set[str]) -> list[bytes]:
    """Bodies that break the contract and carry the secret in every position: each secret field, every
    other field, an extra field, the whole body wrapped, and text that is not JSON at all."""
    base = {k: (SECRET if k in secret_fields else v) for k, v in valid.items()}
    bodies: list[Any] = [[base], {"wrapped": base}, SECRET, [SECRET], {**base, "note": SECRET}, {"note": SECRET}]
    for field in valid:
        shapes = placed(SECRET) if field in secret_fields else [[SECRET], {"v": SECRET}, [base]]
        bodies += [{**base, field: shape} for shape in shapes]
        bodies.append({k: v for k, v in base.items() if k != field})  # one field missing, the secret still there
    raw = [json.dumps(b).encode() for b in bodies]
    text = json.dumps(base)
    return [*raw, text[:-1].encode(), (text[:-1] + ", }").encode(), f'{{"x": "{SECRET}\\ud800"}}'.encode()]


def leaks(texts: dict[str, str]) -> list[str]:
    return sorted(where for where, text in texts.items() if SECRET in text)


async def answers_to(
    session: aiohttp.ClientSession, method: str, url: str, bodies: list[bytes], headers: dict[str, str]
) -> dict[str, str]:
    """Each body sent as JSON; every answer must be a 4xx problem, and its text is kept by where it came from."""
    texts = {}
    for i, raw in enumerate(bodies):
        all_headers = {"Content-Type": "application/json", **headers}
        async with session.request(method, url, data=raw, headers=all_headers) as response:
            text = await response.text()
            assert 400 <= response.status < 500, (method, url, i, response.status)
            assert response.content_type == "application/problem+json", (method, url, i)
        texts[f"{method} {url} body #{i} -> {response.status}"] = text + json.dumps(dict(response.headers))
    return texts


async def test_no_malformed_credential_body_gets_its_secret_echoed_by_the_simulator_or_its_journal(
    sim: SimServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    east = await client_for(sim, session, "10003")
    writes = [
        ("POST", "/api/v1/auth", {"username": "south-market", "password": "x"}, {"password"}, {}),
        (
            "PUT",
            "/api/v1/customers/10003/webhook",
            {"url": "http://127.0.0.1:9/hook", "secret": "x"},
            {"secret"},
            east.auth_headers(),
        ),
        ("PUT", "/_sim/customers/10003/credentials", {"password": "x"}, {"password"}, {}),
        ("PUT", "/_sim/customers/10003/credentials", {"apiKey": "x"}, {"apiKey"}, {}),
    ]
    texts: dict[str, str] = {}
    for method, path, valid, secret_fields, headers in writes:
        texts |= await answers_to(session, method, sim.url + path, malformed(valid, secret_fields), headers)
    journal = await sim.admin(session, "GET", "journal", params={"limit": "100000"})
    assert len(journal["items"] if isinstance(journal, dict) else journal) >= len(texts)
    texts["the simulator's journal"] = json.dumps(journal)
    texts["the log"] = caplog.text
    assert leaks(texts) == []
    assert (await east.call("GET", "/products", params={"size": "1"})).status == 200  # its key still works


async def test_no_malformed_credential_body_gets_its_secret_echoed_by_the_portal(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer = f"/api/customer-numbers/{shop.customer['id']}"
    before = await shop.api.ok("GET", customer)
    new = {"supplierId": shop.supplier["id"], "orgUnitId": shop.unit["id"], "number": "20001"}
    basic = {"authMethod": "basic", "username": "north-market", "password": "x"}
    key = {"authMethod": "api-key", "apiKey": "x"}
    writes = [
        ("POST", "/api/customer-numbers", {**new, **basic}, {"password"}),
        ("POST", "/api/customer-numbers", {**new, **key}, {"apiKey"}),
        ("PATCH", customer, basic, {"password"}),
        ("PATCH", customer, key, {"apiKey"}),
    ]
    texts: dict[str, str] = {}
    for method, path, valid, secret_fields in writes:
        texts |= await answers_to(shop.api.session, method, shop.portal.url + path, malformed(valid, secret_fields), {})
    texts["the simulator's journal"] = json.dumps(await shop.sim.admin(shop.api.session, "GET", "journal"))
    texts["the log"] = caplog.text
    assert leaks(texts) == []
    assert await shop.api.ok("GET", customer) == before
