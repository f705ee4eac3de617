"""The admin endpoints a harness reads the simulator through, instead of its tables and objects."""

from __future__ import annotations

import json

import aiohttp

from scenarios.drivers import ApiError, SimAdmin
from supplier_sim import SimServer
from tests.helpers import SimClient, client_for, order_body


async def test_a_customers_login_is_read_for_each_auth_method_and_an_unknown_one_is_404(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    admin = SimAdmin.of(sim, session)
    north, east = await admin.credentials("10001"), await admin.credentials("10003")
    assert (north.auth, north.username, north.password) == ("basic", "north-market", "north-demo-pass-1")
    assert (east.auth, east.api_key) == ("api-key", "east-demo-key-3f9a27c1d8e4")
    try:
        await admin.credentials("99999")
    except ApiError as exc:
        assert exc.answer.status == 404 and exc.answer.content_type == "application/problem+json"
    else:
        raise AssertionError("an unknown customer's login was answered")


async def test_reading_a_login_leaves_no_password_in_the_journal(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    admin = SimAdmin.of(sim, session)
    await admin.credentials("10001")
    assert "north-demo-pass-1" not in json.dumps(await admin.journal())


async def test_a_rotated_password_refuses_the_old_one_and_takes_the_new(
    sim: SimServer, session: aiohttp.ClientSession, north: SimClient
) -> None:
    await SimAdmin.of(sim, session).change_password("10001", "north-rotated-pass-2")
    assert (await north.call("GET", "/products", params={"size": "1"})).status == 401
    rotated = await client_for(sim, session, "10001")
    assert (await rotated.call("GET", "/products", params={"size": "1"})).status == 200


async def test_a_rotation_that_sends_the_wrong_field_names_it_echoes_no_secret_and_changes_nothing(
    sim: SimServer, session: aiohttp.ClientSession, north: SimClient
) -> None:
    url = f"{sim.url}/_sim/customers/10001/credentials"
    for body, pointer in (
        ({"apiKey": "new-key-0123456789abcdef"}, "/apiKey"),
        ({"password": "leaked-pass-7f2e", "extra": 1}, "/extra"),
        ({"password": "leaked-pass-7f2e", "apiKey": "new-key-0123456789abcdef"}, ""),  # one field at most
    ):
        async with session.put(url, json=body) as response:
            raw = await response.text()
            assert response.status == 422 and response.content_type == "application/problem+json", raw
        assert pointer in [e["pointer"] for e in json.loads(raw)["errors"]], raw
        assert "leaked-pass-7f2e" not in raw and "new-key-0123456789abcdef" not in raw
    assert "leaked-pass-7f2e" not in json.dumps(await SimAdmin.of(sim, session).journal())
    assert (await north.call("GET", "/products", params={"size": "1"})).status == 200


async def test_the_held_orders_are_filtered_by_customer_and_order_number_with_their_keys(
    sim: SimServer, session: aiohttp.ClientSession, north: SimClient, east: SimClient
) -> None:
    products = (await north.call("GET", "/products", params={"size": "2"})).body["items"]
    for client, number, key in ((north, "SO-1", "k-north-1"), (north, "SO-2", "k-north-2"), (east, "SO-1", "k-east")):
        assert (await client.create_order(order_body(products, number), key)).status == 201
    admin = SimAdmin.of(sim, session)
    assert [(h.order["orderNumber"], h.idempotency_key) for h in await admin.orders("10001")] == [
        ("SO-1", "k-north-1"),
        ("SO-2", "k-north-2"),
    ]
    assert [h.idempotency_key for h in await admin.orders(order_number="SO-1")] == ["k-north-1", "k-east"]
    assert await admin.orders("10002") == []


async def test_fault_hits_count_the_requests_each_rule_struck(
    sim: SimServer, session: aiohttp.ClientSession, north: SimClient
) -> None:
    admin = SimAdmin.of(sim, session)
    await admin.set_faults([{"kind": "error", "status": 503, "path": "/products", "times": 1}])
    statuses = [(await north.call("GET", "/products", params={"size": "1"})).status for _ in range(3)]
    assert statuses == [503, 200, 200]
    assert [hits for _, hits in await admin.fault_hits()] == [1]


async def test_expired_tokens_are_refused_and_a_new_login_works(
    sim: SimServer, session: aiohttp.ClientSession, south: SimClient
) -> None:
    await south.login()
    assert (await south.call("GET", "/products", params={"size": "1"})).status == 200
    assert await SimAdmin.of(sim, session).expire_tokens() >= 1
    assert (await south.call("GET", "/products", params={"size": "1"})).status == 401
    await south.login()
    assert (await south.call("GET", "/products", params={"size": "1"})).status == 200


async def test_the_catalog_counts_follow_a_withdrawal(
    sim: SimServer, session: aiohttp.ClientSession, north: SimClient
) -> None:
    admin = SimAdmin.of(sim, session)
    before = await admin.catalog()
    listed = (await north.call("GET", "/products", params={"size": "100"})).body["items"]
    await admin.change_catalog(
        {"kind": "withdraw", "productNumber": next(p for p in listed if p["active"])["productNumber"]}
    )
    after = await admin.catalog()
    assert after["products"] == before["products"] == 60 and after["active"] == before["active"] - 1
