"""Webhooks: registration without the secret shown, signed events, retries with backoff."""

from __future__ import annotations

import hashlib
import hmac
import time

from contracts import contracts
from tests.helpers import client_for, order_body

SECRET = "whsec-test-0123456789abcdef"
FAST = {
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1m"},
    "webhooks": {"maxAttempts": 4, "backoff": "10s"},
}


async def test_a_registration_shows_its_url_but_never_its_secret(start_sim, session) -> None:
    client = await client_for(await start_sim(), session, "10003")
    put = await client.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/h", "secret": SECRET})
    got = await client.call("GET", "/webhook")
    assert put.status == got.status == 200 and got.body["url"] == "http://127.0.0.1:9/h"
    assert SECRET not in str(put.body) + str(got.body)
    assert (await client.call("DELETE", "/webhook")).status == 204
    assert (await client.call("GET", "/webhook")).status == 404
    assert (await client.call("DELETE", "/webhook")).status == 404


async def test_a_bad_registration_names_the_field(start_sim, session) -> None:
    client = await client_for(await start_sim(), session, "10003")
    answer = await client.call("PUT", "/webhook", json={"url": "ftp://x", "secret": "short"})
    assert answer.status == 422 and answer.pointers == ["/secret", "/url"]


async def test_status_changes_and_dispatches_arrive_signed_with_the_secret(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim(FAST)
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory()
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": SECRET})
    products = (await client.call("GET", "/products", params={"size": "10"})).body["items"]
    order = (await client.create_order(order_body([p for p in products if p["active"]][:2]))).body
    await client.advance("1h")
    for body, headers in receiver.received:
        signed = headers["X-Signature-Timestamp"].encode() + b"." + body
        expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Signature"], expected)
        assert abs(int(headers["X-Signature-Timestamp"]) - time.time()) < 60  # real time, not the virtual clock
    events = receiver.events()
    for event in events:
        contracts().validate("webhook-event", event)
    assert [e["type"] for e in events] == [
        "order.status_changed",
        "order.status_changed",
        "dispatch_notification.created",
    ]
    assert [e["data"].get("status") for e in events[:2]] == ["PROCESSED", "ACCEPTED"]
    assert events[2]["data"]["orderId"] == order["orderId"]
    assert len({e["eventId"] for e in events}) == 3


async def test_a_failing_receiver_gets_the_event_again_with_exponential_backoff(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim(FAST)
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory(failures=2)
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": SECRET})
    order = (
        await client.create_order(
            order_body([p for p in (await client.call("GET", "/products")).body["items"] if p["active"]][:1])
        )
    ).body
    await server.admin(session, "POST", f"orders/{order['orderId']}/transition", json={"status": "PROCESSED"})
    assert receiver.attempts == 1 and not receiver.received
    await client.advance("10s")  # first retry after the 10 s backoff (plus jitter under a tenth)
    assert receiver.attempts == 1
    await client.advance("2s")
    assert receiver.attempts == 2 and not receiver.received
    await client.advance("23s")  # the second retry waits twice as long
    assert receiver.attempts == 3 and len(receiver.received) == 1
    log = (await server.admin(session, "GET", "webhooks/deliveries"))["items"]
    assert log[0]["state"] == "delivered" and log[0]["attempts"] == 3


async def test_a_receiver_that_never_answers_well_is_given_up_after_the_maximum_attempts(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim(FAST)
    client = await client_for(server, session, "10001")
    receiver = await receiver_factory(failures=100)
    await client.call("PUT", "/webhook", json={"url": receiver.url, "secret": SECRET})
    order = (
        await client.create_order(
            order_body([p for p in (await client.call("GET", "/products")).body["items"] if p["active"]][:1])
        )
    ).body
    await server.admin(
        session, "POST", f"orders/{order['orderId']}/transition", json={"status": "REJECTED", "reasonCode": "OTHER"}
    )
    for _ in range(6):
        await client.advance("5m")
    log = (await server.admin(session, "GET", "webhooks/deliveries"))["items"]
    assert receiver.attempts == 4 and log[0]["state"] == "failed" and log[0]["lastStatus"] == 503
