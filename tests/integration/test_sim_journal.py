"""The request journal records every API exchange, filterable, and never a secret."""

from __future__ import annotations

import json

from tests.helpers import client_for, order_body


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
    later = (await server.admin(session, "GET", "journal", params={"since": str(everything[0]["seq"])}))["items"]
    assert len(later) == 2


async def test_no_password_token_api_key_or_webhook_secret_reaches_the_journal(start_sim, session) -> None:
    server = await start_sim()
    north, south, east = [await client_for(server, session, n) for n in ("10001", "10002", "10003")]
    await south.login()
    for client in (north, south, east):
        await client.call("GET", "/products", params={"size": "1"})
    await east.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/h", "secret": "whsec-journal-secret-value"})
    dump = json.dumps(await server.admin(session, "GET", "journal"))
    secrets = [
        north.customer.password,
        south.customer.password,
        east.customer.api_key,
        south.token,
        "whsec-journal-secret-value",
        north.auth_headers()["Authorization"].split()[1],
    ]
    for secret in secrets:
        assert secret and secret not in dump
    assert '"Authorization": "Basic ***"' in dump and '"X-Api-Key": "***"' in dump
