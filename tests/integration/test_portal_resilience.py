"""The outbox and the catch-up at their edges: each case is one an independent review reproduced."""

from __future__ import annotations

from typing import Any

from portal.adapters.supplier_client import SupplierClient
from portal.service_layer import sending
from portal.service_layer.supplier_errors import SupplierRejected, SupplierUnreachable, WrongCredentials
from tests.conftest import Shop, make_shop
from tests.helpers import client_for, held_orders, order_body

LIFECYCLE = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


async def booked(shop: Shop, count: int = 1) -> list[dict[str, Any]]:
    await shop.open()
    products = [p["productNumber"] for p in await shop.products() if p["active"]][:count]
    return [await shop.order([(product, 1)]) for product in products]


async def test_an_order_made_by_a_lost_attempt_then_refused_stays_in_the_outbox_and_is_adopted_by_the_poll(
    start_sim, start_portal, session, monkeypatch
) -> None:
    """The first answer is lost after the supplier stored the order; the resend meets a changed password."""
    sim = await start_sim(LIFECYCLE)
    shop = await make_shop(sim, await start_portal(webhooks=False), session)
    (order,) = await booked(shop)
    real = SupplierClient.create_order
    calls = []

    async def lost_then_refused(self: SupplierClient, body: dict, key: str) -> dict:
        calls.append(key)
        if len(calls) == 1:
            await real(self, body, key)
            raise SupplierUnreachable("POST /orders", "no answer within 10 s")
        raise WrongCredentials("POST /orders", "the supplier refuses these basic credentials", 401)

    monkeypatch.setattr(SupplierClient, "create_order", lost_then_refused)
    path = f"/api/stock-orders/{order['id']}/send"
    assert (await shop.api.call("POST", path)).status == 202
    refused = await shop.api.call("POST", "/api/outbox/deliver")
    assert refused.body == {"sent": 0, "waiting": 0, "refused": 0, "blocked": 1}
    queued = (await shop.api.ok("GET", "/api/outbox"))["items"]
    assert len(queued) == 1 and "refuses these basic credentials" in queued[0]["lastError"]
    customer = await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}")
    assert customer["state"] == "UNCOUPLED"  # no more calls with refused credentials: no lockout
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 0, "waiting": 0, "refused": 0, "blocked": 1}
    assert len(calls) == 2
    monkeypatch.undo()
    await shop.api.ok("POST", f"/api/customer-numbers/{shop.customer['id']}/couple")  # the user fixed it
    await shop.advance("20m")
    caught = (await shop.portal.sync())["catchUp"]
    assert caught["adopted"] == 1 and caught["unknown"] == 0
    held, total = await held_orders(shop.admin)
    now = await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")
    assert total == 1 and now["state"] == "SENT" and now["orderportal"]["supplierOrderId"] == held[0]["orderId"]
    assert now["orderportal"]["status"] == "ACCEPTED" and now["outbox"] is None
    assert len(set(calls)) == 1  # one key for every attempt


async def test_an_order_refused_outright_leaves_the_outbox_and_stays_booked(shop: Shop, monkeypatch) -> None:
    (order,) = await booked(shop)

    async def refused(self: SupplierClient, body: dict, key: str) -> dict:
        problem = {"type": "about:blank", "title": "Unprocessable", "status": 422, "detail": "no such warehouse"}
        raise SupplierRejected("POST /orders", problem, 422)

    monkeypatch.setattr(SupplierClient, "create_order", refused)
    answer = await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")
    assert answer.status == 502 and "no such warehouse" in answer.body["detail"]
    assert "still booked" in answer.body["detail"]
    assert (await shop.api.ok("GET", "/api/outbox"))["items"] == []
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["state"] == "BOOKED"


async def test_one_customer_number_that_cannot_be_polled_holds_up_no_other(start_sim, start_portal, session) -> None:
    sim = await start_sim(LIFECYCLE)
    shop = await make_shop(sim, await start_portal(webhooks=False), session, "10001")
    api = shop.api
    unit = await api.ok("POST", "/api/org-units", {"code": "E", "name": "East"})
    house = await api.ok("POST", "/api/warehouses", {"code": "WE", "name": "W", "orgUnitId": unit["id"]})
    login = {"number": "10003", "authMethod": "api-key", "apiKey": (await shop.admin.credentials("10003")).api_key}
    east = await api.ok(
        "POST", "/api/customer-numbers", {"supplierId": shop.supplier["id"], "orgUnitId": unit["id"], **login}
    )
    await api.ok("POST", f"/api/customer-numbers/{east['id']}/couple")
    await api.ok("POST", "/api/orderportal/open", {"supplierId": shop.supplier["id"], "warehouseId": house["id"]})
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    cart = f"/api/carts/{shop.supplier['id']}/{house['id']}"
    await api.ok("PUT", f"{cart}/lines/{product}", {"containers": 1})
    await api.ok("POST", f"{cart}/update-products")
    order = await api.ok("POST", f"{cart}/create-stock-orders")
    await api.ok("POST", f"/api/stock-orders/{order['id']}/book")
    await api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    broken = {"kind": "error", "status": 500, "method": "GET", "path": "/orders", "customer": "10001"}
    await sim.admin(session, "PUT", "faults", json=[broken])
    await shop.advance("1h")
    caught = (await shop.portal.sync())["catchUp"]
    assert caught["failed"] >= 1  # 10001's poll, reported
    assert (await api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "ACCEPTED"
    poll = await api.call("POST", f"/api/suppliers/{shop.supplier['id']}/poll")
    assert poll.status == 502 and "customer number 10001" in poll.body["detail"]


async def test_an_order_that_fails_unforeseen_stops_no_other_in_the_round(shop: Shop, monkeypatch) -> None:
    first, second = await booked(shop, 2)

    async def unreachable(self: SupplierClient, body: dict, key: str) -> dict:
        raise SupplierUnreachable("POST /orders", "no answer")

    with monkeypatch.context() as patch:
        patch.setattr(SupplierClient, "create_order", unreachable)
        for order in (first, second):
            assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
    real = sending._deliver

    async def broken_for_the_first(portal: Any, order_id: int, attempt: Any) -> Any:
        if order_id == first["id"]:
            raise ValueError("an unforeseen failure")
        return await real(portal, order_id, attempt)

    monkeypatch.setattr(sending, "_deliver", broken_for_the_first)
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 1, "waiting": 0, "refused": 0, "blocked": 1}
    (left,) = (await shop.api.ok("GET", "/api/outbox"))["items"]
    assert left["stockOrderId"] == first["id"] and "an unforeseen failure" in left["lastError"]
    assert (await shop.portal.sync())["outbox"]["waiting"] == 1  # after a pause, not every round


async def test_an_unreachable_supplier_costs_one_attempt_a_round_not_one_per_order(shop: Shop, monkeypatch) -> None:
    orders = await booked(shop, 3)
    attempts = []

    async def unreachable(self: SupplierClient, body: dict, key: str) -> dict:
        attempts.append(key)
        raise SupplierUnreachable("POST /orders", "no answer")

    monkeypatch.setattr(SupplierClient, "create_order", unreachable)
    for order in orders:
        await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")
    attempts.clear()
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 0, "waiting": 3, "refused": 0, "blocked": 0}
    assert len(attempts) == 1


async def test_an_answer_broken_on_every_attempt_is_kept_as_evidence_once(shop: Shop) -> None:
    (order,) = await booked(shop)
    rule = {"kind": "truncate", "method": "POST", "path": "/orders"}
    await shop.sim.admin(shop.api.session, "PUT", "faults", json=[rule])
    assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
    for _ in range(3):
        await shop.api.ok("POST", "/api/outbox/deliver")
    kept = (await shop.api.ok("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"]
    assert len(kept) == 1 and (await shop.api.ok("GET", "/api/outbox"))["items"][0]["attempts"] == 4
    await shop.sim.admin(shop.api.session, "PUT", "faults", json=[])
    assert (await shop.api.ok("POST", "/api/outbox/deliver"))["sent"] == 1
    assert (await held_orders(shop.admin, "10001"))[1] == 1


async def test_a_dispatch_pushed_before_its_acceptance_is_taken_once_the_acceptance_comes(shop: Shop) -> None:
    """The acceptance is held back by the simulator's reorder fault: the dispatch is refused, not filed as a violation.

    Refused with 409 and not marked seen, it is the supplier's to deliver again; here its attempts
    run out before the held acceptance is let go, and the catch-up fetches it.
    """
    (order,) = await booked(shop)
    await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    rule = {"kind": "reorder", "event": "order.status_changed", "every": 2, "times": 1}
    await shop.sim.admin(shop.api.session, "PUT", "faults", json=[rule])
    await shop.advance("6m")
    await shop.advance("2h")
    deliveries = (await shop.sim.admin(shop.api.session, "GET", "webhooks/deliveries"))["items"]
    dispatch = next(d for d in deliveries if d["type"] == "dispatch_notification.created")
    assert dispatch["lastStatus"] == 409
    now = await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")
    assert now["orderportal"]["status"] == "ACCEPTED"
    assert (await shop.portal.sync())["catchUp"]["dispatches"] == 1
    assert (await shop.api.ok("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"] == []
    assert (await shop.portal.sync())["catchUp"]["dispatches"] == 0  # fully dispatched now: not fetched again


async def test_an_order_that_only_shares_the_number_is_not_adopted(
    start_sim, start_portal, session, monkeypatch
) -> None:
    """Another channel (or another portal's database) used the number: the portal's own order still goes out."""
    sim = await start_sim(LIFECYCLE)
    shop = await make_shop(sim, await start_portal(webhooks=False), session)
    await shop.open()
    products = [p for p in await shop.products() if p["active"]]
    north = await client_for(sim, session, "10001")
    foreign = await north.create_order(order_body(products[5:7], number="SO-000001", containers=9), key="elsewhere")
    assert foreign.status == 201
    order = await shop.order([(products[0]["productNumber"], 1)])
    assert order["number"] == "SO-000001"

    async def unreachable(self: SupplierClient, body: dict, key: str) -> dict:
        raise SupplierUnreachable("POST /orders", "no answer")

    with monkeypatch.context() as patch:
        patch.setattr(SupplierClient, "create_order", unreachable)
        assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
        caught = (await shop.portal.sync())["catchUp"]
    assert caught["adopted"] == 0 and caught["unknown"] == 1
    assert (await shop.api.ok("POST", "/api/outbox/deliver"))["sent"] == 1
    now = await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")
    _, total = await held_orders(shop.admin)
    assert total == 2 and now["orderportal"]["supplierOrderId"] != foreign.body["orderId"]


async def test_an_order_the_supplier_keeps_refusing_can_be_taken_out_of_the_outbox(shop: Shop, monkeypatch) -> None:
    (order,) = await booked(shop)

    async def conflict(self: SupplierClient, body: dict, key: str) -> dict:
        problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "the key was used"}
        raise SupplierRejected("POST /orders", problem, 409)

    monkeypatch.setattr(SupplierClient, "create_order", conflict)
    assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 502
    assert len((await shop.api.ok("GET", "/api/outbox"))["items"]) == 1  # a 409 may hide an order made: kept
    withdrawn = await shop.api.ok("DELETE", f"/api/outbox/{order['id']}")
    assert withdrawn["state"] == "BOOKED" and withdrawn["outbox"] is None
    assert (await shop.api.ok("GET", "/api/outbox"))["items"] == []
    again = await shop.api.call("DELETE", f"/api/outbox/{order['id']}")
    assert again.status == 404 and "not in the outbox" in again.body["detail"]
