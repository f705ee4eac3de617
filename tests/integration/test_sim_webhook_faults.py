"""Webhook faults: duplicated, reordered, late and withheld events, seen by a real receiver on the virtual clock."""

from __future__ import annotations

from typing import Any

from supplier_sim import SimServer
from tests.fakes import Receiver
from tests.helpers import SimClient, client_for, order_body

SECRET = "whsec-test-0123456789abcdef"
# The lifecycle is slow, so that every event comes from an admin call the test makes.
QUIET = {
    "lifecycle": {"processingDelay": "1d", "acceptanceDelay": "1d"},
    "dispatch": {"delay": "1d"},
    "webhooks": {"maxAttempts": 4, "backoff": "10s"},
}
STATUS, DISPATCH = "order.status_changed", "dispatch_notification.created"


async def hooked(start_sim, session, receiver_factory, faults: list[dict], seed: int = 1) -> tuple[SimClient, Receiver]:
    """Customer 10001 of a quiet simulator with these fault rules, its webhook pointing at a fresh receiver."""
    server = await start_sim({**QUIET, "faults": faults}, seed=seed)
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory()
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": SECRET})
    return client, receiver


async def new_order(client: SimClient, number: str = "SO-1") -> str:
    products = [p for p in (await client.call("GET", "/products")).body["items"] if p["active"]][:1]
    return (await client.create_order(order_body(products, number))).body["orderId"]


async def move(client: SimClient, order_id: str, status: str) -> None:
    await admin(client, "POST", f"orders/{order_id}/transition", json={"status": status})


async def ship(client: SimClient, order_id: str) -> None:
    await admin(client, "POST", f"orders/{order_id}/dispatch", json={})


async def deliveries(client: SimClient) -> list[dict[str, Any]]:
    return (await admin(client, "GET", "webhooks/deliveries"))["items"]


async def admin(client: SimClient, method: str, path: str, **kwargs: Any) -> Any:
    server: SimServer = client.server
    return await server.admin(client.session, method, path, **kwargs)


def arrived(receiver: Receiver) -> list[tuple[str, str | None]]:
    """What reached the receiver, in order: each event's type and the status it reports."""
    return [(e["type"], e["data"].get("status")) for e in receiver.events()]


async def test_a_duplicate_fault_delivers_the_same_event_twice_right_after_the_first(
    start_sim, session, receiver_factory
) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "duplicate", "event": STATUS}])
    order_id = await new_order(client)
    await move(client, order_id, "PROCESSED")
    await move(client, order_id, "ACCEPTED")
    await ship(client, order_id)
    ids = [e["eventId"] for e in receiver.events()]
    assert ids[0] == ids[1] and ids[2] == ids[3] and len(set(ids)) == 3 and len(ids) == 5
    log = await deliveries(client)
    assert [(d["type"], d["fault"], d["attempts"]) for d in log] == [
        (STATUS, "duplicate", 1),
        (STATUS, "duplicate", 1),
        (DISPATCH, None, 1),
    ]


async def test_a_reordered_event_arrives_after_the_customers_next_event(start_sim, session, receiver_factory) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "reorder", "event": STATUS}])
    order_id = await new_order(client)
    await move(client, order_id, "PROCESSED")
    await move(client, order_id, "ACCEPTED")
    assert not receiver.received
    assert [d["state"] for d in await deliveries(client)] == ["held", "held"]
    await ship(client, order_id)
    assert arrived(receiver) == [(DISPATCH, None), (STATUS, "PROCESSED"), (STATUS, "ACCEPTED")]
    log = await deliveries(client)
    assert [(d["fault"], d["state"]) for d in log] == [
        ("reorder", "delivered"),
        ("reorder", "delivered"),
        (None, "delivered"),
    ]


async def test_a_reorder_rule_spent_after_one_hit_holds_back_only_the_first_event(
    start_sim, session, receiver_factory
) -> None:
    rules = [{"kind": "reorder", "event": STATUS, "times": 1}]
    client, receiver = await hooked(start_sim, session, receiver_factory, rules)
    order_id = await new_order(client)
    await move(client, order_id, "PROCESSED")
    assert not receiver.received
    await move(client, order_id, "ACCEPTED")
    assert arrived(receiver) == [(STATUS, "ACCEPTED"), (STATUS, "PROCESSED")]
    assert [d["fault"] for d in await deliveries(client)] == ["reorder", None]


async def test_a_reordered_event_with_no_next_event_still_arrives_when_its_hold_ends(
    start_sim, session, receiver_factory
) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "reorder", "hold": "5m"}])
    await move(client, await new_order(client), "PROCESSED")
    await client.advance("299s")
    assert not receiver.received
    await client.advance("1s")
    assert arrived(receiver) == [(STATUS, "PROCESSED")]


async def test_a_late_event_is_first_tried_after_its_latency_on_the_virtual_clock(
    start_sim, session, receiver_factory
) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "late", "latency": "90s"}])
    order_id = await new_order(client)
    await move(client, order_id, "PROCESSED")
    await move(client, order_id, "ACCEPTED")
    log = await deliveries(client)
    assert [(d["fault"], d["nextAttemptAt"]) for d in log] == [("late", "2026-01-05T08:01:30.000Z")] * 2
    await client.advance("89s")
    assert not receiver.received
    await client.advance("1s")
    assert arrived(receiver) == [(STATUS, "PROCESSED"), (STATUS, "ACCEPTED")]
    assert receiver.attempts == 2 and all(d["attempts"] == 1 for d in await deliveries(client))


async def test_a_withheld_event_reaches_the_receiver_only_after_its_failed_attempts(
    start_sim, session, receiver_factory
) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "withhold", "attempts": 2}])
    await move(client, await new_order(client), "PROCESSED")
    (delivery,) = await deliveries(client)
    assert receiver.attempts == 0 and delivery["attempts"] == 1 and delivery["state"] == "pending"
    assert delivery["fault"] == "withhold" and "withhold" in delivery["lastError"]
    await client.advance("11s")  # the first retry, after the 10 s backoff, is withheld as well
    assert receiver.attempts == 0
    await client.advance("22s")  # the second retry waits twice as long, and goes through
    (delivery,) = await deliveries(client)
    assert receiver.attempts == 1 and delivery["attempts"] == 3 and delivery["state"] == "delivered"


async def test_request_rules_never_hit_webhooks_and_webhook_rules_never_hit_requests(
    start_sim, session, receiver_factory
) -> None:
    client, receiver = await hooked(start_sim, session, receiver_factory, [{"kind": "duplicate"}, {"kind": "withhold"}])
    order_id = await new_order(client)
    journal = (await admin(client, "GET", "journal", params={"path": "/api/"}))["items"]
    assert journal and all(e["fault"] is None and e["status"] < 400 for e in journal)
    faults = [{"kind": "error", "status": 500}, {"kind": "duplicate", "customer": "10003"}]
    await admin(client, "PUT", "faults", json=faults)
    assert (await client.call("GET", "/products")).status == 500
    await move(client, order_id, "PROCESSED")
    assert len(receiver.received) == 1 and (await deliveries(client))[0]["fault"] is None


async def test_the_same_seed_replays_the_same_webhook_faults_and_another_seed_others(
    start_sim, session, receiver_factory
) -> None:
    faults = [
        {"kind": "duplicate", "rate": 0.25},
        {"kind": "late", "rate": 0.25, "latency": {"median": "30s", "sigma": 1}},
        {"kind": "withhold", "rate": 0.25, "attempts": 1},
        {"kind": "reorder", "rate": 0.25, "hold": "10m", "event": STATUS},
    ]
    runs = []
    for seed in (8, 8, 9):  # seed 8 hits with every kind of fault
        client, receiver = await hooked(start_sim, session, receiver_factory, faults, seed=seed)
        for number in ("SO-1", "SO-2", "SO-3"):
            order_id = await new_order(client, number)
            await move(client, order_id, "PROCESSED")
            await move(client, order_id, "ACCEPTED")
            await ship(client, order_id)
        await client.advance("15m")
        log = [(d["type"], d["fault"], d["attempts"], d["deliveredAt"]) for d in await deliveries(client)]
        runs.append((log, [(e["type"], e["occurredAt"], e["data"].get("status")) for e in receiver.events()]))
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert {fault for _, fault, _, _ in runs[0][0]} == {None, "duplicate", "late", "withhold", "reorder"}
    assert all(delivered for *_, delivered in runs[0][0])


async def test_a_bad_webhook_rule_is_refused_naming_the_field(sim: SimServer, session) -> None:
    cases = {
        "/0/path": [{"kind": "duplicate", "path": "/orders"}],
        "/0/event": [{"kind": "error", "event": STATUS}],
        "/0/latency": [{"kind": "late"}],
        "/0/attempts": [{"kind": "withhold", "attempts": 0}],
        "/1/event": [{"kind": "reorder"}, {"kind": "reorder", "event": "order.created"}],
    }
    for pointer, rules in cases.items():
        async with session.put(f"{sim.url}/_sim/faults", json=rules) as response:
            body = await response.json(content_type=None)
        assert response.status == 422 and [e["pointer"] for e in body["errors"]] == [pointer], body
    assert await sim.admin(session, "GET", "faults") == []
