"""The profile's misbehave switches: each breaks Supplier API v1 on purpose, over real HTTP, and only in the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from contracts import contracts
from contracts.statuses import illegal_step
from supplier_sim import SimServer
from supplier_sim.misbehaviour import Saboteur
from supplier_sim.profile import Misbehaviour
from tests.helpers import SimClient, client_for, order_body

StartSim = Callable[..., Awaitable[SimServer]]
FAST = {
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1m", "notifications": 1},
}


async def misbehaving(start_sim: StartSim, session: aiohttp.ClientSession, switch: str) -> SimClient:
    """Customer 10001 of a strict simulator with only ``switch`` on."""
    server = await start_sim({**FAST, "misbehave": {switch: True}})
    return await client_for(server, session, "10001")


async def product_pages(client: SimClient, size: int, pages: int) -> list[dict[str, Any]]:
    bodies = []
    for page in range(1, pages + 1):
        answer = await client.call("GET", "/products", params={"page": str(page), "size": str(size)})
        assert answer.status == 200
        bodies.append(answer.body)
    return bodies


async def active_products(client: SimClient, count: int = 2) -> list[dict[str, Any]]:
    items = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    return [p for p in items if p["active"]][:count]


async def accepted_order(client: SimClient) -> dict[str, Any]:
    """An order of two products, moved on the virtual clock past acceptance and its dispatch."""
    order = (await client.create_order(order_body(await active_products(client), containers=3))).body
    await client.advance("1h")
    return order


def test_with_every_switch_off_nothing_is_broken_or_left_unchecked() -> None:
    saboteur = Saboteur(Misbehaviour())
    assert not saboteur.breaks_product_pages and saboteur.unchecked_routes == frozenset()


async def test_wrong_totals_count_one_product_more_than_the_pages_hold(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "wrongTotals")
    pages = await product_pages(client, size=20, pages=4)
    assert {(p["totalItems"], p["totalPages"]) for p in pages} == {(61, 4)}
    assert sum(len(p["items"]) for p in pages) == 60 and pages[3]["items"] == []


async def test_a_product_missing_between_pages_is_on_no_page_but_still_counted(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "productMissingBetweenPages")
    pages = await product_pages(client, size=20, pages=3)
    shown = [p["productNumber"] for page in pages for p in page["items"]]
    truth = client.server.sim.catalog.numbers()
    assert {(p["totalItems"], p["totalPages"]) for p in pages} == {(60, 3)}
    assert len(shown) == len(set(shown)) == 59 and set(truth) - set(shown) == {truth[20]}
    assert pages[1]["items"][0]["productNumber"] == truth[21]


async def test_an_illegal_status_move_shows_an_accepted_order_moved_back_once(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "illegalStatusMove")
    order_id = (await accepted_order(client))["orderId"]
    moved_back = (await client.call("GET", f"/orders/{order_id}")).body
    path = [h["status"] for h in moved_back["statusHistory"]]
    assert moved_back["status"] == "PROCESSED" and path == ["NEW", "PROCESSED", "ACCEPTED", "PROCESSED"]
    assert illegal_step(path) == (3, "ACCEPTED", "PROCESSED")
    stored = await client.server.sim.orders.get("10001", order_id)
    assert stored is not None and stored["status"] == "ACCEPTED"
    assert (await client.call("GET", f"/orders/{order_id}")).body["status"] == "ACCEPTED"


async def test_over_dispatch_ships_twice_the_ordered_quantity_of_line_one(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "overDispatch")
    order = await accepted_order(client)
    answer = await client.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")
    shipped = {line["lineNumber"]: line["quantity"] for line in answer.body["items"][0]["lines"]}
    ordered = {line["lineNumber"]: line["quantity"] for line in order["lines"]}
    assert shipped == {1: 2 * ordered[1], 2: ordered[2]}
    stored = await client.server.sim.orders.dispatch_notifications("10001", order["orderId"], 1, 10)
    assert stored is not None and stored[0][0]["lines"][0]["quantity"] == ordered[1]


async def test_a_duplicate_on_replay_makes_a_second_order_from_the_same_key_and_body(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "duplicateOnReplay")
    body = order_body(await active_products(client))
    first = await client.create_order(body, key="replay-1")
    again = await client.create_order(body, key="replay-1")
    assert first.status == again.status == 201 and first.body["orderId"] != again.body["orderId"]
    assert again.headers["Idempotent-Replayed"] == "false"
    assert (await client.call("GET", "/orders")).body["totalItems"] == 2
    other = await client.create_order({**body, "orderNumber": "SO-2"}, key="replay-1")
    assert other.status == 409


async def test_a_server_error_on_bad_input_answers_500_instead_of_422(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "serverErrorOnBadInput")
    body = order_body(await active_products(client))
    body["lines"][0]["quantity"] += 1
    answer = await client.create_order(body)
    assert answer.status == 500 and answer.body["status"] == 500 and "errors" not in answer.body
    assert (await client.call("GET", "/orders")).body["totalItems"] == 0
    assert (await client.create_order(order_body(await active_products(client)))).status == 201


async def test_leak_other_customer_answers_another_customers_products_and_orders(start_sim, session) -> None:
    server = await start_sim({"misbehave": {"leakOtherCustomer": True}})
    north, east = await client_for(server, session, "10001"), await client_for(server, session, "10003")
    theirs = (await east.create_order(order_body(await active_products(east)))).body
    products = await north.call("GET", "/api/v1/customers/10003/products", absolute=True)
    assert products.status == 200 and products.body["totalItems"] == 60
    orders = await north.call("GET", "/api/v1/customers/10003/orders", absolute=True)
    assert orders.status == 200 and [o["orderId"] for o in orders.body["items"]] == [theirs["orderId"]]
    one = await north.call("GET", f"/api/v1/customers/10003/orders/{theirs['orderId']}", absolute=True)
    assert one.status == 403  # only the two listings leak
    assert (await north.call("GET", "/api/v1/customers/99999/orders", absolute=True)).status == 403


async def test_a_wrong_field_type_shows_container_amounts_as_strings(start_sim, session) -> None:
    client = await misbehaving(start_sim, session, "wrongFieldType")
    page = (await client.call("GET", "/products", params={"size": "60"})).body
    truth = client.server.sim.catalog.products()
    assert [p["containerAmount"] for p in page["items"]] == [str(p["containerAmount"]) for p in truth]
    assert {e.pointer for e in contracts().errors("product-page", page)} == {
        f"/items/{i}/containerAmount" for i in range(60)
    }
