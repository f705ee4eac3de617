"""Rules 7 and 8: status by polling and by webhook, evidence of illegal moves, dispatches, receipts, stock."""

from __future__ import annotations

import json
import time

import orjson
from sqlalchemy import update

from contracts.wire import format_timestamp
from supplier_sim import db as sim_tables
from tests.conftest import Shop, make_shop


async def sent_order(shop: Shop, containers: int = 2, count: int = 1) -> dict:
    await shop.open()
    picks = [p for p in await shop.products() if p["active"]][:count]
    order = await shop.order([(p["productNumber"], containers) for p in picks])
    return await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")


def statuses(order: dict) -> list[str]:
    return [h["status"] for h in order["orderportal"]["history"]]


async def test_webhooks_bring_each_status_without_polling(shop: Shop) -> None:
    order = await sent_order(shop)
    assert order["orderportal"]["status"] == "NEW"
    await shop.advance("6m")
    assert statuses(await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")) == ["NEW", "PROCESSED"]
    await shop.advance("10m")
    assert statuses(await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")) == ["NEW", "PROCESSED", "ACCEPTED"]


async def test_polling_one_order_catches_up_and_may_skip_processed(start_sim, start_portal, session) -> None:
    sim = await start_sim({"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}})
    shop = await make_shop(sim, await start_portal(webhooks=False), session)
    order = await sent_order(shop)
    await shop.advance("1h")  # NEW -> PROCESSED -> ACCEPTED happened unseen
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "NEW"
    polled = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/poll")
    assert polled["poll"]["result"] == "applied" and polled["orderportal"]["status"] == "ACCEPTED"
    again = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/poll")
    assert again["poll"]["result"] == "unchanged"


async def test_polling_every_open_order_asks_only_for_what_changed_since_the_last_poll(
    start_sim, start_portal, session
) -> None:
    sim = await start_sim({"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}})
    shop = await make_shop(sim, await start_portal(webhooks=False), session)
    first = await sent_order(shop)
    second = await sent_order(shop)
    await shop.advance("1h")
    counts = await shop.api.ok("POST", f"/api/suppliers/{shop.supplier['id']}/poll")
    assert counts["applied"] == 2
    for order in (first, second):
        assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "ACCEPTED"
    assert (await shop.api.ok("POST", f"/api/suppliers/{shop.supplier['id']}/poll"))["applied"] == 0
    polls = (
        await sim.admin(session, "GET", "journal", params={"path": "/api/v1/customers/10001/orders", "method": "GET"})
    )["items"]
    assert "updatedSince" not in polls[0]["query"] and "updatedSince=" in polls[-1]["query"]


def event(order: dict, event_id: str, previous: str, status: str, **extra: str) -> dict:
    data = {
        "orderId": order["orderportal"]["supplierOrderId"],
        "orderNumber": order["number"],
        "previousStatus": previous,
        "status": status,
    }
    return {
        "eventId": event_id,
        "type": "order.status_changed",
        "occurredAt": "2026-01-05T09:00:00.000Z",
        "data": {**data, "at": "2026-01-05T09:00:00.000Z", **extra},
    }


async def test_a_webhook_with_a_bad_signature_is_refused_with_401_and_changes_nothing(shop: Shop) -> None:
    order = await sent_order(shop)
    raw, headers = await shop.signed(event(order, "e-1", "NEW", "PROCESSED"))
    path = f"/api/webhooks/{shop.customer['id']}"
    tampered = await shop.api.call("POST", path, data=raw.replace(b"PROCESSED", b"REJECTED"), headers=headers)
    assert tampered.status == 401
    unsigned = await shop.api.call("POST", path, data=raw, headers={"Content-Type": "application/json"})
    assert unsigned.status == 401
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "NEW"


async def test_a_replayed_event_outside_the_window_is_refused_logged_and_changes_nothing(shop: Shop, caplog) -> None:
    order = await sent_order(shop)
    path = f"/api/webhooks/{shop.customer['id']}"
    recorded = event(order, "e-1", "NEW", "PROCESSED")
    raw, headers = await shop.signed(recorded, sent_at=int(time.time()) - 3600)
    replayed = await shop.api.call("POST", path, data=raw, headers=headers)
    assert replayed.status == 401 and "outside the replay window" in replayed.body["detail"]
    assert "outside the replay window" in caplog.text
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "NEW"
    fresh, fresh_headers = await shop.signed(recorded)  # the same event sent now, not the recording, is taken
    assert (await shop.api.ok("POST", path, data=fresh, headers=fresh_headers))["result"] == "applied"


async def test_a_customer_numbers_secret_does_not_reach_another_org_units_order_at_the_same_supplier(
    shop: Shop,
) -> None:
    order = await sent_order(shop)
    unit = await shop.api.ok("POST", "/api/org-units", {"code": "OTHER", "name": "Another store"})
    login = await shop.admin.credentials("10003")
    other = {"supplierId": shop.supplier["id"], "orgUnitId": unit["id"], "number": "10003", "authMethod": "api-key"}
    other = await shop.api.ok("POST", "/api/customer-numbers", {**other, "apiKey": login.api_key})
    await shop.api.ok("POST", f"/api/customer-numbers/{other['id']}/couple")
    raw, headers = await shop.signed(event(order, "e-1", "NEW", "PROCESSED"), customer_id=other["id"])
    reached = await shop.api.call("POST", f"/api/webhooks/{other['id']}", data=raw, headers=headers)
    assert reached.status == 404
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "NEW"


async def test_a_duplicate_event_is_ignored_and_a_late_one_is_old_news(shop: Shop) -> None:
    order = await sent_order(shop)
    path = f"/api/webhooks/{shop.customer['id']}"
    accepted = event(order, "e-2", "PROCESSED", "ACCEPTED")
    raw, headers = await shop.signed(accepted)
    assert (await shop.api.ok("POST", path, data=raw, headers=headers))["result"] == "applied"
    assert (await shop.api.ok("POST", path, data=raw, headers=headers))["result"] == "duplicate"
    late, late_headers = await shop.signed(event(order, "e-1", "NEW", "PROCESSED"))
    assert (await shop.api.ok("POST", path, data=late, headers=late_headers))["result"] == "ignored"
    assert statuses(await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")) == ["NEW", "ACCEPTED"]


async def test_an_illegal_move_pushed_by_the_supplier_is_evidence_and_is_not_applied(shop: Shop) -> None:
    order = await sent_order(shop)
    path = f"/api/webhooks/{shop.customer['id']}"
    raw, headers = await shop.signed(event(order, "e-9", "NEW", "ACCEPTED"))
    assert (await shop.api.ok("POST", path, data=raw, headers=headers))["result"] == "violation"
    assert (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]["status"] == "NEW"
    found = (await shop.api.ok("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"]
    assert (
        found[0]["kind"] == "illegal-status"
        and "NEW -> ACCEPTED" in found[0]["detail"]
        and "e-9" in found[0]["evidence"]
    )


async def test_an_order_polled_going_backwards_is_evidence_and_is_not_applied(start_sim, start_portal, session) -> None:
    sim = await start_sim({"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}})
    shop = await make_shop(sim, await start_portal(webhooks=False), session)
    order = await sent_order(shop)
    await shop.advance("1h")
    await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/poll")
    history = [
        {"status": "NEW", "at": "2026-01-05T08:00:00.000Z"},
        {"status": "PROCESSED", "at": "2026-01-05T08:05:00.000Z"},
    ]
    async with sim.sim.db.write() as conn:  # the supplier misbehaves: its order goes back to PROCESSED
        await conn.execute(
            update(sim_tables.orders).values(
                status="PROCESSED", history=orjson.dumps(history).decode(), updated_ms=sim.sim.clock.now_ms()
            )
        )
    polled = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/poll")
    assert polled["poll"]["result"] == "violation" and polled["orderportal"]["status"] == "ACCEPTED"
    found = (await shop.api.ok("GET", f"/api/suppliers/{shop.supplier['id']}/contract-violations"))["items"]
    assert "was ACCEPTED, which is final, and is now reported PROCESSED" in found[0]["detail"]
    assert json.loads(found[0]["evidence"])["status"] == "PROCESSED"


async def test_a_rejection_carries_its_reason_to_the_portal(shop: Shop) -> None:
    order = await sent_order(shop)
    line = order["lines"][0]
    await shop.sim.admin(
        shop.api.session,
        "POST",
        "catalog/changes",
        json={"kind": "withdraw", "productNumber": line["supplierProductNumber"]},
    )
    await shop.advance("1h")
    seen = (await shop.api.ok("GET", f"/api/stock-orders/{order['id']}"))["orderportal"]
    assert (seen["status"], seen["rejectionReason"]) == ("REJECTED", "PRODUCT_INACTIVE")


async def test_a_dispatch_becomes_a_receipt_that_raises_stock_once(shop: Shop) -> None:
    order = await sent_order(shop, containers=3, count=2)
    not_yet = await shop.api.call("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications")
    assert not_yet.status == 409 and "not accepted" in not_yet.body["detail"]
    await shop.advance("1h")
    notes = (await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications"))["items"]
    assert len(notes) == 1 and not notes[0]["received"]
    too_much = await shop.api.call(
        "POST",
        f"/api/dispatch-notifications/{notes[0]['id']}/receipt",
        {"lines": [{"lineNumber": 1, "quantity": 10**6}]},
    )
    assert too_much.status == 422 and "more than" in too_much.body["detail"]
    receipt = await shop.api.ok("POST", f"/api/dispatch-notifications/{notes[0]['id']}/receipt", {})
    again = await shop.api.call("POST", f"/api/dispatch-notifications/{notes[0]['id']}/receipt", {})
    assert again.status == 409 and "received already" in again.body["detail"]
    levels = f"/api/warehouses/{shop.house['id']}/stock-levels"
    assert (await shop.api.ok("GET", levels))["items"] == []
    await shop.api.ok("POST", f"/api/stock-receipts/{receipt['id']}/book")
    assert (await shop.api.call("POST", f"/api/stock-receipts/{receipt['id']}/book")).status == 409
    stock = {x["productId"]: x["quantity"] for x in (await shop.api.ok("GET", levels))["items"]}
    assert stock == {line["productId"]: line["quantity"] for line in order["lines"]}


async def test_a_receipt_from_the_order_takes_what_is_not_received_yet(start_sim, start_portal, session) -> None:
    sim = await start_sim(
        {
            "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
            "dispatch": {"delay": "1m", "notifications": 2, "interval": "1h"},
        }
    )
    shop = await make_shop(sim, await start_portal(), session)
    order = await sent_order(shop, containers=2, count=1)
    await shop.advance("20m")  # the first of two partial notifications
    notes = (await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications"))["items"]
    assert len(notes) == 1
    first = await shop.api.ok("POST", f"/api/dispatch-notifications/{notes[0]['id']}/receipt", {})
    rest = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/receipt")
    ordered = order["lines"][0]["quantity"]
    assert first["lines"][0]["quantity"] + rest["lines"][0]["quantity"] == ordered
    nothing_left = await shop.api.call("POST", f"/api/stock-orders/{order['id']}/receipt")
    assert nothing_left.status == 409 and "has been received" in nothing_left.body["detail"]


async def test_a_dispatch_notification_shipping_more_than_ordered_is_evidence_not_stock(shop: Shop) -> None:
    order = await sent_order(shop)
    await shop.advance("1h")
    path = f"/api/webhooks/{shop.customer['id']}"
    line = order["lines"][0]
    data = {
        "dispatchNotificationId": "X-1",
        "orderId": order["orderportal"]["supplierOrderId"],
        "orderNumber": order["number"],
        "dispatchedAt": format_timestamp(0),
        "lines": [{"lineNumber": 1, "productNumber": line["supplierProductNumber"], "quantity": line["quantity"] * 5}],
    }
    raw, headers = await shop.signed(
        {"eventId": "e-over", "type": "dispatch_notification.created", "occurredAt": format_timestamp(0), "data": data},
    )
    assert (await shop.api.ok("POST", path, data=raw, headers=headers))["result"] == "violation"
    notes = (await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications"))["items"]
    assert "X-1" not in [n["notificationId"] for n in notes]
