"""Order creation: 201 and NEW, idempotent replay and its 409, and every kind of bad input."""

from __future__ import annotations

import io
import json

import pytest

from contracts import contracts
from tests.helpers import SimClient, order_body


@pytest.fixture
async def products(north: SimClient) -> list[dict]:
    items = (await north.call("GET", "/products", params={"size": "20"})).body["items"]
    return [p for p in items if p["active"]][:3]


async def count_orders(client: SimClient) -> int:
    return (await client.call("GET", "/orders")).body["totalItems"]


async def test_an_order_is_created_new_with_its_location(north: SimClient, products: list[dict]) -> None:
    answer = await north.create_order(order_body(products))
    assert answer.status == 201
    order = answer.body
    assert order["status"] == "NEW" and [h["status"] for h in order["statusHistory"]] == ["NEW"]
    assert answer.headers["Location"].endswith(f"/orders/{order['orderId']}")
    fetched = await north.call("GET", f"/orders/{order['orderId']}")
    assert fetched.body == order


async def test_a_replay_with_the_same_key_returns_the_same_order_and_creates_nothing(
    north: SimClient, products: list[dict]
) -> None:
    body = order_body(products)
    first = await north.create_order(body, key="replay-1")
    shuffled = dict(reversed(list(body.items())))  # the same body, keys in another order
    again = await north.create_order(shuffled, key="replay-1")
    assert again.status == 201 and again.body["orderId"] == first.body["orderId"]
    assert again.headers["Idempotent-Replayed"] == "true" and first.headers["Idempotent-Replayed"] == "false"
    assert await count_orders(north) == 1


async def test_the_same_key_with_another_body_gets_409_and_creates_nothing(
    north: SimClient, products: list[dict]
) -> None:
    await north.create_order(order_body(products, number="SO-1"), key="reuse")
    conflict = await north.create_order(order_body(products, number="SO-2"), key="reuse")
    assert conflict.status == 409 and "Idempotency-Key" in conflict.body["detail"]
    assert await count_orders(north) == 1


async def test_keys_are_per_customer(north: SimClient, east: SimClient, products: list[dict]) -> None:
    a = await north.create_order(order_body(products), key="shared")
    b = await east.create_order(order_body(products), key="shared")
    assert a.status == b.status == 201 and a.body["orderId"] != b.body["orderId"]


async def test_concurrent_sends_with_one_key_make_one_order(north: SimClient, products: list[dict]) -> None:
    import asyncio

    body = order_body(products)
    answers = await asyncio.gather(*(north.create_order(body, key="burst") for _ in range(10)))
    assert {a.status for a in answers} == {201}
    assert len({a.body["orderId"] for a in answers}) == 1
    assert await count_orders(north) == 1


BAD_BODIES = [
    (
        "wrong types",
        lambda b: {**b, "orderNumber": 7, "lines": [{**b["lines"][0], "containers": "2"}]},
        ["/lines/0/containers", "/orderNumber"],
    ),
    (
        "missing fields",
        lambda b: {k: v for k, v in b.items() if k not in ("orgUnit", "warehouse")},
        ["/orgUnit", "/warehouse"],
    ),
    ("unknown field", lambda b: {**b, "discount": "5%"}, ["/discount"]),
    ("unknown line field", lambda b: {**b, "lines": [{**b["lines"][0], "price": 1}]}, ["/lines/0/price"]),
    ("no lines", lambda b: {**b, "lines": []}, ["/lines"]),
    (
        "zero containers",
        lambda b: {**b, "lines": [{**b["lines"][0], "containers": 0, "quantity": 0}]},
        ["/lines/0/containers", "/lines/0/quantity"],
    ),
    (
        "quantity is not containers x amount",
        lambda b: {**b, "lines": [{**b["lines"][0], "quantity": b["lines"][0]["quantity"] + 1}]},
        ["/lines/0/quantity"],
    ),
    (
        "a line number twice",
        lambda b: {**b, "lines": [b["lines"][0], {**b["lines"][1], "lineNumber": 1}]},
        ["/lines/1/lineNumber"],
    ),
    ("a bad delivery date", lambda b: {**b, "requestedDeliveryDate": "next week"}, ["/requestedDeliveryDate"]),
    ("not an object", lambda b: [b], [""]),
]


@pytest.mark.parametrize(("case", "mutate", "pointers"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_a_malformed_order_gets_422_naming_each_field_and_creates_nothing(
    north: SimClient, products: list[dict], case: str, mutate, pointers: list[str]
) -> None:
    answer = await north.create_order(mutate(order_body(products)))
    assert answer.status == 422, case
    assert sorted(answer.pointers) == pointers
    assert await count_orders(north) == 0


async def test_a_missing_idempotency_key_is_named_with_the_bodys_errors(north: SimClient, products: list[dict]) -> None:
    answer = await north.call("POST", "/orders", json={**order_body(products), "x": 1})
    assert answer.status == 422 and answer.pointers == ["/headers/Idempotency-Key", "/x"]
    assert await count_orders(north) == 0


async def test_malformed_json_gets_400(north: SimClient) -> None:
    answer = await north.call(
        "POST",
        "/orders",
        data=b'{"orderNumber": ',
        headers={"Content-Type": "application/json", "Idempotency-Key": "k"},
    )
    assert answer.status == 400 and "not valid JSON" in answer.body["detail"]
    assert await count_orders(north) == 0


async def test_a_body_that_is_not_json_gets_415(north: SimClient) -> None:
    answer = await north.call(
        "POST",
        "/orders",
        data=b"orderNumber=1",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Idempotency-Key": "k"},
    )
    assert answer.status == 415


async def test_a_body_over_1_mib_gets_413_and_creates_nothing(north: SimClient, products: list[dict]) -> None:
    body = json.dumps({**order_body(products), "note": "x" * (1024 * 1024)}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "big"}
    answer = await north.call("POST", "/orders", data=io.BytesIO(body), headers=headers)
    assert answer.status == 413 and "1 MiB" in answer.body["detail"]
    assert await count_orders(north) == 0


async def test_an_unknown_order_gets_404(north: SimClient) -> None:
    answer = await north.call("GET", "/orders/ORD99999999")
    assert answer.status == 404 and "has no order" in answer.detail and "ORD99999999" not in answer.raw.decode()
    notes = await north.call("GET", "/orders/ORD99999999/dispatch-notifications")
    assert notes.status == 404


async def test_an_unknown_path_and_a_wrong_method_are_problems(north: SimClient) -> None:
    assert (await north.call("GET", "/invoices")).status == 404
    wrong = await north.call("PATCH", "/orders")
    assert wrong.status == 405 and "GET" in wrong.headers["Allow"]


async def test_polling_filters_by_status_and_updated_since(north: SimClient, products: list[dict]) -> None:
    first = (await north.create_order(order_body(products, number="SO-1"))).body
    await north.server.admin(
        north.session, "POST", f"orders/{first['orderId']}/transition", json={"status": "PROCESSED"}
    )
    clock = await north.advance("1s")
    second = (await north.create_order(order_body(products, number="SO-2"))).body
    new = await north.call("GET", "/orders", params={"status": "NEW"})
    assert [o["orderId"] for o in new.body["items"]] == [second["orderId"]]
    both = await north.call("GET", "/orders", params={"status": "NEW,PROCESSED"})
    assert both.body["totalItems"] == 2
    since = await north.call("GET", "/orders", params={"updatedSince": clock["now"]})
    assert [o["orderId"] for o in since.body["items"]] == [second["orderId"]]
    bad = await north.call("GET", "/orders", params={"status": "SHIPPED"})
    assert bad.status == 422 and bad.pointers == ["/query/status"]
    for page in (new, both, since):
        contracts().validate("order-page", page.body)
