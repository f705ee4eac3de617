"""The request journal records every API exchange, filterable, and never a secret."""

from __future__ import annotations

import json

import aiohttp

from supplier_sim import SimServer
from tests.helpers import SimClient, client_for, order_body

WEBHOOK_SECRET = "whsec-journal-secret-value"


async def test_the_journal_records_each_exchange_and_filters_it(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    products = (await north.call("GET", "/products", params={"size": "5"})).body["items"]
    await north.create_order(order_body(products[:1]), key="journal-1")
    await north.call("GET", "/orders/NOPE")
    everything = (await server.admin(session, "GET", "journal"))["items"]
    assert [(e["method"], e["status"]) for e in everything] == [("GET", 200), ("POST", 201), ("GET", 404)]
    posted = (await server.admin(session, "GET", "journal", params={"method": "POST"}))["items"]
    assert posted[0]["request"]["headers"]["Idempotency-Key"] == "journal-1"
    assert posted[0]["request"]["body"]["orderNumber"] == "SO-1" and posted[0]["customerNumber"] == "10001"
    missing = (await server.admin(session, "GET", "journal", params={"status": "404"}))["items"]
    assert [e["path"] for e in missing] == ["/api/v1/customers/10001/orders/NOPE"]
    later = await server.admin(session, "GET", "journal", params={"after": str(everything[0]["seq"])})
    assert [e["seq"] for e in later["items"]] == [e["seq"] for e in everything[1:]]
    assert later["lastSeq"] == everything[-1]["seq"]


async def test_the_journal_path_filter_matches_anywhere_in_the_path(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    await north.call("GET", "/products", params={"size": "1"})
    await north.call("GET", "/orders")
    found = (await server.admin(session, "GET", "journal", params={"path": "orders"}))["items"]
    assert [e["path"] for e in found] == ["/api/v1/customers/10001/orders"]


async def test_the_journal_limit_keeps_the_newest_entries_oldest_first(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    for size in ("1", "2", "3"):
        await north.call("GET", "/products", params={"size": size})
    found = (await server.admin(session, "GET", "journal", params={"limit": "2", "path": "products"}))["items"]
    assert [e["query"] for e in found] == ["size=2", "size=3"]


async def test_a_reader_following_last_seq_pages_forward_and_misses_nothing(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    for size in ("1", "2", "3", "4", "5"):
        await north.call("GET", "/products", params={"size": size})
    read: list[str] = []
    after = 0
    while found := await server.admin(session, "GET", "journal", params={"after": str(after), "limit": "2"}):
        if not found["items"]:
            break
        read += [e["query"] for e in found["items"]]
        after = found["lastSeq"]
    assert read == ["size=1", "size=2", "size=3", "size=4", "size=5"]


async def test_the_customer_filter_finds_requests_a_fault_refused_before_the_login_was_read(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    await server.admin(session, "PUT", "faults", json=[{"kind": "error", "status": 503, "method": "POST"}])
    products = (await north.call("GET", "/products", params={"size": "5"})).body["items"]
    assert (await north.create_order(order_body(products[:1]), key="faulted-1")).status == 503
    found = await server.admin(session, "GET", "journal", params={"customer": "10001", "status": "503"})
    assert [e["path"] for e in found["items"]] == ["/api/v1/customers/10001/orders"]
    other = await server.admin(session, "GET", "journal", params={"customer": "10002", "status": "503"})
    assert other["items"] == []


async def test_the_journal_since_takes_a_virtual_clock_time(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    await north.call("GET", "/products", params={"size": "1"})
    moved = await north.advance("1h")
    await north.call("GET", "/products", params={"size": "2"})
    found = await server.admin(session, "GET", "journal", params={"since": moved["now"], "path": "products"})
    assert [(e["query"], e["at"]) for e in found["items"]] == [("size=2", moved["now"])]


async def test_a_journal_since_that_is_no_time_is_a_problem_naming_it(start_sim, session) -> None:
    server = await start_sim()
    for value in ("4711", "yesterday", "2026-13-01T00:00:00Z"):
        async with session.get(f"{server.url}/_sim/journal", params={"since": value}) as response:
            body = await response.json(content_type=None)
            assert response.status == 422 and response.content_type == "application/problem+json"
            assert [e["pointer"] for e in body["errors"]] == ["/query/since"]
            assert value not in body["detail"]


async def traffic_with_every_secret(server: SimServer, session: aiohttp.ClientSession) -> list[SimClient]:
    """A read by each customer (basic, token, API key) and a webhook registered with a secret."""
    north, south, east = [await client_for(server, session, n) for n in ("10001", "10002", "10003")]
    await south.login()
    for client in (north, south, east):
        await client.call("GET", "/products", params={"size": "1"})
    await east.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/h", "secret": WEBHOOK_SECRET})
    return [north, south, east]


def secrets_of(north: SimClient, south: SimClient, east: SimClient) -> list[str]:
    """Every secret that traffic handed out, the basic credentials in base64 too."""
    basic = north.auth_headers()["Authorization"].split()[1]
    return [north.customer.password, south.customer.password, east.customer.api_key, south.token, WEBHOOK_SECRET, basic]


async def test_no_password_token_api_key_or_webhook_secret_reaches_the_journal(start_sim, session) -> None:
    server = await start_sim()
    clients = await traffic_with_every_secret(server, session)
    dump = json.dumps(await server.admin(session, "GET", "journal"))
    for secret in secrets_of(*clients):
        assert secret and secret not in dump
    assert '"Authorization": "Basic ***"' in dump and '"X-Api-Key": "***"' in dump
