"""A secret in any position of a malformed body is never echoed: not in an answer, the journal or a log."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from supplier_sim import SimServer
from tests.conftest import Shop
from tests.helpers import client_for, order_body

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


def bad_profiles() -> list[tuple[bytes, int, list[str]]]:
    """Profiles that cannot be used, each with the secret inside: the body, the status and the pointers expected."""
    basic = f'{{number: "1", auth: basic, username: u, password: {SECRET}'
    keyed = f'{{number: "2", auth: api-key, apiKey: "{SECRET}"'
    customers = [{"number": "1", "auth": "api-key", "apiKey": SECRET}, {"number": "2", "auth": "api-key"}]
    duplicate = [customers[0], {**customers[1], "apiKey": SECRET}]
    yaml_texts = [
        f"customers:\n  - {basic}, x: 1: 2}}\n",  # PyYAML's message quotes the offending line
        f"customers:\n  - {keyed}, x: 1: 2}}\n",
        f"customers:\n  - {basic}\n",  # the flow mapping never closes
        f"customers:\n  - number: '1'\n\tpassword: {SECRET}\n",  # a tab where YAML allows none
        f"customers:\n  - !{SECRET} {{number: '1'}}\n",  # a tag YAML cannot construct
        f"customers:\n  - {{apiKey: {SECRET}\u0000}}\n",  # a character YAML does not allow
        f"customers:\n  - {{apiKey: '{SECRET}'}}\n---\nname: {SECRET}\n",  # two documents
    ]
    bodies: list[tuple[bytes, int, list[str]]] = [(text.encode(), 400, []) for text in yaml_texts]
    bodies += [(b"customers: [" + SECRET.encode() + b"\xff\xfe]", 400, [])]  # not UTF-8
    for shape, pointers in [
        ({"customers": duplicate}, ["/customers/1/apiKey"]),
        ({"customers": [{**customers[0], "auth": SECRET}]}, ["/customers/0/auth"]),
        ({"customers": [{**customers[0], "apiKey": [SECRET]}]}, ["/customers/0/apiKey"]),
        ({"customers": [{**customers[0], "number": {"v": SECRET}}]}, ["/customers/0/number"]),
        ({"customers": {SECRET: customers}}, ["/customers"]),
        ({"customers": customers[0]}, ["/customers"]),
        ({"tokenLifetime": SECRET}, ["/tokenLifetime"]),
        ({"clock": {"start": SECRET}}, ["/clock/start"]),
        ({"rejection": {"rules": [{"reasonCode": "OTHER", "orderNumber": f"(?<={SECRET}+)x"}]}}, []),
        ({"catalog": {"file": SECRET}}, ["/catalog"]),
        ({"catalog": {"changes": [{"at": "1s", "kind": "withdraw", "productNumber": SECRET}]}}, ["/catalog"]),
        ({"dispatch": {"notifications": {"min": 3, "max": 1}}, "name": SECRET}, []),
    ]:
        bodies.append((json.dumps(shape).encode(), 422, pointers))
    return bodies


async def test_no_unusable_profile_gets_its_secret_echoed_by_the_simulator_or_its_journal(
    sim: SimServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    east = await client_for(sim, session, "10003")
    texts: dict[str, str] = {}
    for i, (raw, status, pointers) in enumerate(bad_profiles()):
        for content_type in ("application/yaml", "application/json") if status == 422 else ("application/yaml",):
            headers = {"Content-Type": content_type}
            async with session.put(f"{sim.url}/_sim/profile", data=raw, headers=headers) as response:
                text = await response.text()
                assert (response.status, response.content_type) == (status, "application/problem+json"), (i, text)
                named = [e["pointer"] for e in json.loads(text).get("errors", [])]
                assert set(pointers) <= set(named), (i, named)
            texts[f"profile #{i} as {content_type} -> {response.status}"] = text + json.dumps(dict(response.headers))
    texts["the simulator's journal"] = json.dumps(await sim.admin(session, "GET", "journal", params={"limit": "1000"}))
    texts["the log"] = caplog.text
    assert leaks(texts) == []
    assert (await east.call("GET", "/products", params={"size": "1"})).status == 200  # the old profile stays


async def test_no_webhook_url_with_a_password_or_a_blank_is_taken_or_echoed(
    sim: SimServer, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    east = await client_for(sim, session, "10003")
    urls = [
        f"http://user:{SECRET}@127.0.0.1:9/hook",
        f"http://{SECRET}@127.0.0.1:9/hook",
        f"https://{SECRET}:@example.com/hook?x=@",
        f"http://127.0.0.1:9/hook {SECRET}",
        f"http://127.0.0.1:9/hook\t{SECRET}",
        f"http://127.0.0.1:9/hook\u0085{SECRET}",
        f"http://127.0.0.1:9/hook\u200b{SECRET}",
        f"http://{SECRET}..example/hook",  # no host at all
    ]
    bodies = [json.dumps({"url": url, "secret": "s" * 16}).encode() for url in urls]
    path = sim.url + "/api/v1/customers/10003/webhook"
    texts = await answers_to(session, "PUT", path, bodies, east.auth_headers())
    assert all('"pointer":"/url"' in text.replace(" ", "") for text in texts.values())
    assert (await east.call("GET", "/webhook")).status == 404  # nothing was registered
    texts["the simulator's journal"] = json.dumps(await sim.admin(session, "GET", "journal"))
    texts["the deliveries"] = json.dumps(await sim.admin(session, "GET", "webhooks/deliveries"))
    texts["the log"] = caplog.text
    assert leaks(texts) == []


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


MARK, NUMBER = "Echo9q7x", 98765


async def test_no_problem_of_the_simulator_quotes_the_value_it_refuses(start_sim, session) -> None:
    fast = {"lifecycle": {"processingDelay": "1m", "acceptanceDelay": "1m"}, "dispatch": {"delay": "1h"}}
    server = await start_sim(fast)
    north = await client_for(server, session, "10001")
    product = next(p for p in (await north.call("GET", "/products")).body["items"] if p["active"])
    good = order_body([product], containers=1)
    line = good["lines"][0]
    accepted = (await north.create_order(good)).body["orderId"]
    await north.advance("10m")
    bad_quantity = {**good, "lines": [{**line, "quantity": NUMBER}]}
    twice = {**good, "lines": [{**line, "lineNumber": NUMBER}, {**line, "lineNumber": NUMBER}]}
    await north.create_order(good, key=f"key-{MARK}")
    answers = [
        await north.call("GET", "/orders", params={"status": f"NEW,{MARK}"}),
        await north.create_order(bad_quantity),
        await north.create_order(twice),
        await north.call("GET", f"/orders/ORD-{MARK}"),
        await north.call("GET", f"/orders/ORD-{MARK}/dispatch-notifications"),
        await north.call("GET", f"/api/v1/customers/{MARK}/products", absolute=True),
        await north.create_order({**good, "orderNumber": "SO-2"}, key=f"key-{MARK}"),
        await north.call("POST", "/orders", data=b"{}", headers={"Content-Type": f"text/x-{MARK}"}),
    ]
    admin = [
        ("POST", f"orders/ORD-{MARK}/transition", {"status": "PROCESSED"}),
        ("POST", "catalog/changes", {"kind": "withdraw", "productNumber": f"SP-{MARK}"}),
        ("POST", f"orders/{accepted}/dispatch", {"lines": [{"lineNumber": NUMBER, "quantity": 1}]}),
        ("POST", f"orders/{accepted}/dispatch", {"lines": [{"lineNumber": 1, "quantity": NUMBER}]}),
    ]
    texts = [(f"{a.method} {a.path}", a.status, a.raw.decode()) for a in answers]
    for method, path, body in admin:
        async with session.request(method, f"{server.url}/_sim/{path}", json=body) as response:
            texts.append((f"admin {method} {path}", response.status, await response.text()))
    assert [status for _, status, _ in texts] == [422, 422, 422, 404, 404, 403, 409, 415, 404, 404, 422, 409]
    assert [where for where, _, text in texts if MARK.lower() in text.lower() or str(NUMBER) in text] == []
    async with session.put(f"{server.url}/_sim/customers/10001/credentials", json={"apiKey": "k" * 16}) as response:
        assert response.status == 422 and "10001" not in await response.text()


async def test_no_problem_of_the_portal_quotes_the_value_it_refuses(shop: Shop) -> None:
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])
    await shop.api.put_in_cart(shop.cart, product["productNumber"], 1)
    await shop.api.update_products(shop.cart)
    unbooked = await shop.api.create_stock_orders(shop.cart)
    raw, headers = await shop.signed(
        {
            "eventId": "e-echo",
            "type": "order.status_changed",
            "occurredAt": "2026-01-05T09:00:00.000Z",
            "data": {
                "orderId": f"ORD-{MARK}",
                "orderNumber": "SO-1",
                "previousStatus": "NEW",
                "status": "PROCESSED",
                "at": "2026-01-05T09:00:00.000Z",
            },
        }
    )
    withdrawn = next(p for p in await shop.products() if p["active"] and p["productNumber"] != product["productNumber"])
    await shop.admin.change_catalog({"kind": "withdraw", "productNumber": withdrawn["productNumber"]})
    await shop.open()
    unit = {"code": f"U-{MARK}", "name": "Unit"}
    await shop.api.ok("POST", "/api/org-units", unit)
    supplier = {"name": f"S-{MARK}", "orderInterface": "PRECASTED"}
    await shop.api.ok("POST", "/api/suppliers", supplier)
    house = {"code": f"W-{MARK}", "name": "House", "orgUnitId": shop.unit["id"]}
    await shop.api.ok("POST", "/api/warehouses", house)
    duplicates = [
        await shop.api.call("POST", "/api/org-units", unit),
        await shop.api.call("POST", "/api/suppliers", supplier),
        await shop.api.call("POST", "/api/warehouses", house),
    ]
    refused = await shop.api.call("PUT", f"{shop.cart}/lines/{withdrawn['productNumber']}", {"containers": 1})
    assert [a.status for a in [*duplicates, refused]] == [409] * 4
    assert [a.path for a in duplicates if MARK in a.raw.decode()] == []
    assert withdrawn["productNumber"] not in refused.raw.decode()
    answers = [
        await shop.api.call("PUT", f"{shop.cart}/lines/{MARK * 9}", {"containers": 1}),
        await shop.api.call("PUT", f"{shop.cart}/lines/SP-{MARK}", {"containers": 1}),
        await shop.api.call("DELETE", f"{shop.cart}/lines/SP-{MARK}"),
        await shop.api.call("GET", f"/api/stock-orders/{NUMBER}"),
        await shop.api.call("DELETE", f"/api/stock-orders/{unbooked['id']}/lines/{NUMBER}"),
        await shop.api.call("POST", f"/api/webhooks/{shop.customer['id']}", data=raw, headers=headers),
    ]
    assert [a.status for a in answers] == [404] * 6
    assert [a.path for a in answers if MARK in a.raw.decode() or str(NUMBER) in a.raw.decode()] == []
