"""Hostile and odd input: it gets a 4xx naming the problem, never a 500, never a leak, never a jam."""

from __future__ import annotations

import asyncio
import json

import pytest

from supplier_sim import SimServer
from supplier_sim.orders import GroupCommit
from tests.helpers import SimClient, client_for, order_body

FAST = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


async def products_of(client: SimClient, count: int = 2) -> list[dict]:
    items = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    return [p for p in items if p["active"]][:count]


async def test_an_integral_float_is_stored_as_an_integer_and_the_order_completes(start_sim, session) -> None:
    client = await client_for(await start_sim(FAST), session, "10001")
    body = order_body(await products_of(client, 1))
    body["lines"][0]["lineNumber"] = 1.0
    created = await client.create_order(body)
    assert created.status == 201 and created.body["lines"][0]["lineNumber"] == 1
    await client.advance("1h")
    order = (await client.call("GET", f"/orders/{created.body['orderId']}")).body
    assert order["status"] == "ACCEPTED"


async def test_two_lines_of_one_product_are_checked_against_its_stock_together(start_sim, session) -> None:
    server = await start_sim(FAST)
    client = await client_for(server, session, "10001")
    product = (await products_of(client, 1))[0]
    server.sim.stock[product["productNumber"]] = product["containerAmount"] * 3
    body = order_body([product, product], containers=2)  # 4 containers in all, 3 in stock
    order = (await client.create_order(body)).body
    await client.advance("1h")
    last = (await client.call("GET", f"/orders/{order['orderId']}")).body["statusHistory"][-1]
    assert (last["status"], last["reasonCode"]) == ("REJECTED", "OUT_OF_STOCK")


async def test_stock_goes_to_the_orders_accepted_first_in_virtual_time(start_sim, session) -> None:
    profile = {
        "lifecycle": {"processingDelay": {"min": "1m", "max": "30m"}, "acceptanceDelay": {"min": "1m", "max": "1h"}}
    }
    server = await start_sim(profile)
    client = await client_for(server, session, "10001")
    product = (await products_of(client, 1))[0]
    server.sim.stock[product["productNumber"]] = product["containerAmount"] * 5
    ids = [(await client.create_order(order_body([product], number=f"SO-{i}"))).body["orderId"] for i in range(6)]
    await client.advance("1d")
    decided = []
    for order_id in ids:
        history = (await client.call("GET", f"/orders/{order_id}")).body["statusHistory"]
        decided.append((history[-1]["at"], history[-1]["status"]))
    # two containers each, five in stock: the first two decisions in time win, the rest are out of stock
    assert [status for _, status in sorted(decided)] == ["ACCEPTED", "ACCEPTED"] + ["REJECTED"] * 4


async def test_a_scheduled_change_of_an_unknown_product_is_refused_when_the_profile_loads(
    sim: SimServer, session
) -> None:
    profile = "catalog: {size: 5, changes: [{at: 1h, kind: withdraw, productNumber: NOPE}]}\n"
    async with session.put(f"{sim.url}/_sim/profile", data=profile) as response:
        body = await response.json(content_type=None)
        # The product is named by the rule it breaks, not echoed: "NOPE" could as well have been a secret.
        assert response.status == 422 and "a change names a product that is not in the catalog" in body["detail"]
        assert "NOPE" not in json.dumps(body)
    assert len(sim.sim.catalog) == 60  # the old profile stays


async def test_a_missing_catalog_file_is_refused_and_the_old_catalog_stays(sim: SimServer, session) -> None:
    async with session.put(f"{sim.url}/_sim/profile", data="catalog: {file: /no/such/catalog.json}\n") as response:
        assert response.status == 422 and "does not exist" in (await response.json(content_type=None))["detail"]
    assert (await (await client_for(sim, session, "10001")).call("GET", "/products")).body["totalItems"] == 60


async def test_a_webhook_url_that_cannot_be_reached_never_breaks_an_advance(start_sim, session) -> None:
    server = await start_sim({**FAST, "webhooks": {"maxAttempts": 2, "backoff": "1s"}})
    client = await client_for(server, session, "10001")
    bad_host = await client.call("PUT", "/webhook", json={"url": "http://a..b/hook", "secret": "s" * 20})
    assert bad_host.status == 422 and bad_host.pointers == ["/url"]
    assert (
        await client.call("PUT", "/webhook", json={"url": "http://127.0.0.1:1/hook", "secret": "s" * 20})
    ).status == 200
    await client.create_order(order_body(await products_of(client, 1)))
    assert (await client.advance("1h"))["now"].startswith("2026-01-05T09:00")
    log = (await server.admin(session, "GET", "webhooks/deliveries"))["items"]
    assert log and all(d["state"] == "failed" and d["lastError"] for d in log)


async def test_every_retry_of_a_failing_receiver_happens_within_one_advance(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim({**FAST, "webhooks": {"maxAttempts": 5, "backoff": "10s"}})
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory(failures=3)
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": "s" * 20})
    order = (await client.create_order(order_body(await products_of(client, 1)))).body
    await server.admin(session, "POST", f"orders/{order['orderId']}/transition", json={"status": "PROCESSED"})
    await client.advance("2m")
    assert receiver.attempts >= 4 and len(receiver.received) >= 1
    first = (await server.admin(session, "GET", "webhooks/deliveries", params={"state": "delivered"}))["items"][0]
    assert first["attempts"] == 4


async def test_event_ids_never_repeat_after_a_reset(start_sim, session) -> None:
    server = await start_sim(FAST)
    ids = []
    for _ in range(2):
        client = await client_for(server, session, "10001")
        await client.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/h", "secret": "s" * 20})
        order = (await client.create_order(order_body(await products_of(client, 1)))).body
        await server.admin(session, "POST", f"orders/{order['orderId']}/transition", json={"status": "PROCESSED"})
        ids += [d["eventId"] for d in (await server.admin(session, "GET", "webhooks/deliveries"))["items"]]
        await server.admin(session, "POST", "reset")
    assert len(ids) == 2 and ids[0] != ids[1]


async def test_a_secret_in_a_bad_body_never_reaches_the_answer_or_the_journal(sim: SimServer, session) -> None:
    south, east = await client_for(sim, session, "10002"), await client_for(sim, session, "10003")
    numeric = await south.call(
        "POST", "/api/v1/auth", absolute=True, auth=False, json={"username": "south-market", "password": 12345678}
    )
    assert numeric.status == 422 and numeric.pointers == ["/password"] and "12345678" not in json.dumps(numeric.body)
    short = await east.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/h", "secret": "mysecret"})
    assert short.status == 422 and "mysecret" not in json.dumps(short.body)
    broken = b'{"username": "south-market", "password": "south-demo-pass-2",}'
    headers = {"Content-Type": "application/json"}
    assert (
        await south.call("POST", "/api/v1/auth", absolute=True, auth=False, data=broken, headers=headers)
    ).status == 400
    bare = await south.call("GET", "/products", auth=False, headers={"Authorization": "south-demo-pass-2"})
    assert bare.status == 401 and "south-demo-pass-2" not in json.dumps(bare.body)
    journal = json.dumps(await sim.admin(session, "GET", "journal"))
    for secret in ("12345678", "mysecret", "south-demo-pass-2"):
        assert secret not in journal


@pytest.mark.parametrize(
    ("params", "pointer"),
    [({"size": "²"}, "/query/size"), ({"page": "9" * 5000}, "/query/page"), ({"q": "x" * 201}, "/query/q")],
)
async def test_odd_query_values_get_422_naming_the_parameter(north: SimClient, params: dict, pointer: str) -> None:
    answer = await north.call("GET", "/products", params=params)
    assert answer.status == 422 and answer.pointers == [pointer]


async def test_empty_paging_parameters_mean_the_defaults(north: SimClient) -> None:
    answer = await north.call("GET", "/orders", params={"page": "", "size": "", "updatedSince": ""})
    assert answer.status == 200 and (answer.body["currentPage"], answer.body["pageSize"]) == (1, 100)


async def test_bad_paging_on_orders_and_dispatch_notifications_is_named(north: SimClient) -> None:
    assert (await north.call("GET", "/orders", params={"size": "0"})).pointers == ["/query/size"]
    order = (await north.create_order(order_body(await products_of(north, 1)))).body
    notes = await north.call("GET", f"/orders/{order['orderId']}/dispatch-notifications", params={"page": "-1"})
    assert notes.status == 422 and notes.pointers == ["/query/page"]


async def test_nul_characters_are_refused_before_they_reach_the_database(north: SimClient) -> None:
    assert (await north.call("GET", "/orders/%00")).status == 400
    body = {**order_body(await products_of(north, 1)), "orderNumber": "BAD\u0000"}
    answer = await north.create_order(body)
    assert answer.status == 422 and answer.pointers == ["/orderNumber"]
    assert (await north.call("GET", "/orders")).body["totalItems"] == 0


async def test_a_bearer_token_that_is_not_utf8_gets_401(sim: SimServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    writer.write(
        b"GET /api/v1/customers/10002/products HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"401"


async def test_the_basic_scheme_is_case_insensitive(north: SimClient) -> None:
    value = north.auth_headers()["Authorization"].split(" ", 1)[1]
    assert (await north.call("GET", "/products", auth=False, headers={"Authorization": f"basic {value}"})).status == 200


@pytest.mark.parametrize(
    "change",
    [{"kind": "price", "name": "Foo"}, {"kind": "price", "barcode": "4006381333931"}, {"kind": "rename"}],
)
async def test_a_catalog_change_with_the_wrong_value_for_its_kind_is_refused(
    sim: SimServer, session, change: dict
) -> None:
    number = sim.sim.catalog.numbers()[0]
    before = sim.sim.catalog.get(number)
    async with session.post(f"{sim.url}/_sim/catalog/changes", json={**change, "productNumber": number}) as response:
        assert response.status == 422
    assert sim.sim.catalog.get(number) == before


@pytest.mark.parametrize("advance", [{"by": "99999999999d"}, {"to": "9999-12-31T23:59:59-23:59"}, {"by": 1e300}])
async def test_a_clock_advance_past_the_year_9999_is_refused_and_the_clock_stays(
    sim: SimServer, session, advance: dict
) -> None:
    async with session.post(f"{sim.url}/_sim/clock/advance", json=advance) as response:
        assert response.status == 422
    assert (await sim.admin(session, "GET", "clock"))["now"] == "2026-01-05T08:00:00.000Z"


async def test_webhook_registration_rejects_the_wrong_media_type_broken_json_and_huge_bodies(east: SimClient) -> None:
    assert (await east.call("PUT", "/webhook", data=b"url=x", headers={"Content-Type": "text/plain"})).status == 415
    assert (await east.call("PUT", "/webhook", data=b"{", headers={"Content-Type": "application/json"})).status == 400
    assert (await east.call("GET", "/webhook")).status == 404


async def test_the_customer_listing_shows_no_credential(sim: SimServer, session) -> None:
    listing = json.dumps(await sim.admin(session, "GET", "customers"))
    assert "10002" in listing and "south-demo-pass-2" not in listing and "east-demo-key" not in listing


async def test_a_reset_with_a_seed_gives_that_seeds_catalog(sim: SimServer, session) -> None:
    before = sim.sim.catalog.numbers()
    await sim.admin(session, "POST", "reset", params={"seed": "42"})
    assert sim.sim.seed == 42 and sim.sim.catalog.numbers() != before
    await sim.admin(session, "POST", "reset", params={"seed": "1"})
    assert sim.sim.catalog.numbers() == before


async def test_orders_written_in_one_batch_where_one_fails_lose_only_that_one(sim: SimServer, session) -> None:
    north = await client_for(sim, session, "10001")
    await north.create_order(order_body(await products_of(north, 1)), key="template")
    writer = GroupCommit(sim.sim.db)
    original, sizes = writer._write, []

    async def refusing_poison(rows: list[dict]) -> None:
        sizes.append(len(rows))
        if any(row["order_number"] == "POISON" for row in rows):
            raise RuntimeError("the database refused this row")
        await original(rows)

    writer._write = refusing_poison  # type: ignore[method-assign]
    rows = [row_like(sim, number, seq) for seq, number in enumerate(["OK-1", "POISON", "OK-2"], start=100)]
    futures = [writer.submit(row) for row in rows]  # queued together: one batch
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert [isinstance(o, RuntimeError) for o in outcomes] == [False, True, False]
    assert sizes == [3, 1, 1, 1]
    numbers = sorted(o["orderNumber"] for o in (await north.call("GET", "/orders")).body["items"])
    assert numbers == ["OK-1", "OK-2", "SO-1"]


def row_like(sim: SimServer, number: str, seq: int) -> dict:
    line = {"lineNumber": 1, "productNumber": "P", "containers": 1, "containerAmount": 1, "quantity": 1}
    body = {"orderNumber": number, "orgUnit": "s", "warehouse": {"id": "W", "name": "M"}, "lines": [line]}
    return {
        "order_id": f"ORD{seq:08d}",
        "seq": seq,
        "customer_number": "10001",
        "idempotency_key": f"k-{seq}",
        "request_hash": "0" * 64,
        "order_number": number,
        "status": "NEW",
        "body": json.dumps(body),
        "history": json.dumps([{"status": "NEW", "at": "2026-01-05T08:00:00.000Z"}]),
        "created_ms": 0,
        "updated_ms": 0,
        "next_event": None,
        "next_event_ms": None,
    }


HUGE_FAULTS = {
    "a Retry-After of 1e20 seconds": ([{"kind": "error", "status": 503, "retryAfter": 1e20}], "/0/retryAfter"),
    "a hang of 1e300 seconds": ([{"kind": "hang", "hang": 1e300}], "/0/hang"),
    "a latency of 10^11 days": ([{"kind": "latency", "latency": "99999999999d"}], "/0/latency"),
    "every 10^20th request": ([{"kind": "error", "every": 10**20}], "/0/every"),
    "a log-normal sigma of 1e300": ([{"kind": "latency", "latency": {"median": 1, "sigma": 1e300}}], "/0/latency"),
}


@pytest.mark.parametrize("rules, pointer", HUGE_FAULTS.values(), ids=HUGE_FAULTS.keys())
async def test_fault_rules_with_numbers_too_big_to_use_are_refused_naming_the_field_and_the_rules_stay(
    sim: SimServer, session, rules: list, pointer: str
) -> None:
    before = await sim.admin(session, "GET", "faults")
    async with session.put(f"{sim.url}/_sim/faults", json=rules) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and pointer in [e["pointer"] for e in body["errors"]]
    assert await sim.admin(session, "GET", "faults") == before
    sim.check()


HUGE_PROFILES = {
    "a token lifetime of 10^20 days": ("tokenLifetime: 99999999999999999999d\n", "/tokenLifetime"),
    "a token lifetime of 1e300 seconds": ('{"tokenLifetime": 1e300}', "/tokenLifetime"),
    "a webhook backoff of 1e300 seconds": ('{"webhooks": {"backoff": 1e300}}', "/webhooks/backoff"),
    "a stock of 10^23": ("stock: {default: 100000000000000000000000}\n", "/stock/default"),
    "a journal of 10^23 entries": ("journal: {size: 100000000000000000000000}\n", "/journal/size"),
    "delivery in 10^8 days": ("dispatch: {deliveryDays: 100000000}\n", "/dispatch/deliveryDays"),
    "a catalog change 10^12 days later": ("catalog: {changes: [{at: 999999999999d, kind: price}]}\n", "/catalog"),
}


@pytest.mark.parametrize("profile, pointer", HUGE_PROFILES.values(), ids=HUGE_PROFILES.keys())
async def test_a_profile_with_numbers_too_big_to_use_is_refused_naming_the_field_and_the_old_one_stays(
    sim: SimServer, session, profile: str, pointer: str
) -> None:
    before = sim.sim.profile
    async with session.put(f"{sim.url}/_sim/profile", data=profile) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and any(e["pointer"].startswith(pointer) for e in body["errors"])
    assert sim.sim.profile is before
    sim.check()


async def test_a_catalog_file_that_is_a_directory_is_refused_and_the_old_profile_stays(
    sim: SimServer, session, tmp_path
) -> None:
    before = sim.sim.profile
    async with session.put(f"{sim.url}/_sim/profile", json={"catalog": {"file": str(tmp_path)}}) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and [e["pointer"] for e in body["errors"]] == ["/catalog"]
    assert sim.sim.profile is before
    sim.check()


async def test_a_token_lifetime_past_the_year_9999_gives_tokens_that_expire_at_its_last_instant(
    start_sim, session
) -> None:
    server = await start_sim({"clock": {"start": "9999-12-31T00:00:00Z"}, "tokenLifetime": "3650d"})
    answer = {"username": "south-market", "password": "south-demo-pass-2"}
    async with session.post(f"{server.url}/api/v1/auth", json=answer) as response:
        assert response.status == 200
        assert (await response.json())["expiresAt"] == "9999-12-31T23:59:59.999Z"
    server.check()


NEAR_THE_END = {"clock": {"start": "9999-12-30T00:00:00Z"}, "dispatch": {"delay": "1d"}}
LAST_INSTANT = "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize("fault", [{"kind": "late", "latency": "10d"}, {"kind": "reorder", "hold": "10d"}])
async def test_a_webhook_event_held_past_the_year_9999_waits_until_its_last_instant(
    start_sim, session, receiver_factory, fault: dict
) -> None:
    server = await start_sim({**NEAR_THE_END, "lifecycle": {"processingDelay": "1d", "acceptanceDelay": "1d"}})
    async with session.put(f"{server.url}/_sim/faults", json=[fault]) as response:
        assert response.status == 200
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory()
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": "whsec-test-0123456789abcdef"})
    order_id = (await client.create_order(order_body(await products_of(client, 1)))).body["orderId"]
    await server.admin(session, "POST", f"orders/{order_id}/transition", json={"status": "PROCESSED"})
    async with session.get(f"{server.url}/_sim/webhooks/deliveries") as response:
        assert response.status == 200
        assert [d["nextAttemptAt"] for d in (await response.json())["items"]] == [LAST_INSTANT]
    server.check()


async def test_an_order_whose_lifecycle_runs_past_the_year_9999_completes_at_its_last_instant(
    start_sim, session
) -> None:
    delays = {"processingDelay": "10d", "acceptanceDelay": "10d"}
    server = await start_sim({**NEAR_THE_END, "lifecycle": delays, "dispatch": {"delay": "10d", "interval": "10d"}})
    client = await client_for(server, session, "10001")
    order_id = (await client.create_order(order_body(await products_of(client, 1)))).body["orderId"]
    await server.admin(session, "POST", "clock/advance", json={"to": LAST_INSTANT})
    order = (await client.call("GET", f"/orders/{order_id}")).body
    assert order["status"] == "ACCEPTED" and order["updatedAt"] == LAST_INSTANT
    notes = (await client.call("GET", f"/orders/{order_id}/dispatch-notifications")).body["items"]
    assert notes and {n["dispatchedAt"] for n in notes} == {LAST_INSTANT}
    server.check()


async def test_a_catalog_change_scheduled_past_the_year_9999_happens_at_its_last_instant(start_sim, session) -> None:
    catalog = {"size": 20, "changes": [{"at": "10d", "kind": "price", "count": 1}]}
    server = await start_sim({**NEAR_THE_END, "catalog": catalog})
    client = await client_for(server, session, "10001")
    await server.admin(session, "POST", "clock/advance", json={"to": LAST_INSTANT})
    products = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    assert [p["updatedAt"] for p in products].count(LAST_INSTANT) == 1
    server.check()


TOO_LONG_FOR_ANSWERS = {
    "a rejection message of 2001 characters": (
        {"rejection": {"rules": [{"reasonCode": "OTHER", "orgUnit": "store-1", "message": "m" * 2001}]}},
        "/rejection/rules/0/message",
    ),
    "a carrier of 101 characters": ({"dispatch": {"carriers": ["c" * 101]}}, "/dispatch/carriers/0"),
    "a password of 201 characters": (
        {"customers": [{"number": "1", "auth": "basic", "username": "u", "password": "p" * 201}]},
        "/customers/0/password",
    ),
}


@pytest.mark.parametrize("profile, pointer", TOO_LONG_FOR_ANSWERS.values(), ids=TOO_LONG_FOR_ANSWERS.keys())
async def test_a_profile_whose_strings_would_break_the_simulators_own_answers_is_refused_naming_the_field(
    sim: SimServer, session, profile: dict, pointer: str
) -> None:
    before = sim.sim.profile
    async with session.put(f"{sim.url}/_sim/profile", json=profile) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and pointer in [e["pointer"] for e in body["errors"]]
    assert sim.sim.profile is before
    sim.check()
