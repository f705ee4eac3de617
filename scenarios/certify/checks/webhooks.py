"""The webhook check: registration hides the secret, and events arrive signed, valid and redelivered."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

import orjson

from contracts import contracts
from contracts.signing import refusal
from scenarios.certify.checks.shared import key, order_body
from scenarios.certify.registry import CheckSkipped, Context, check, expect


@check("WEBHOOK-01", "Webhooks: the secret stays hidden, events are signed and well formed, and redelivered")
async def webhooks(ctx: Context) -> None:
    url, receiver = ctx.target.webhook_url, ctx.receiver
    if not url or receiver is None:
        raise CheckSkipped("not checked: run with --webhook-listen HOST:PORT to check webhooks", applies=False)
    # A secret, not behaviour: from the OS, never from the run's seed, which the report shows.
    secret = secrets.token_hex(16)
    before = await ctx.http.call("GET", "/webhook")
    if before.status == 200:
        ctx.notes.append(
            f"WEBHOOK-01 replaced the customer's receiver {before.body.get('url')} for the run; re-register it"
        )
    registered = await ctx.http.call("PUT", "/webhook", json={"url": url, "secret": secret})
    if registered.status in (404, 405, 501):
        raise CheckSkipped(f"the server offers no webhooks (PUT /webhook answered {registered.status})", applies=False)
    expect(
        registered.status == 200 and registered.body.get("url") == url, "the registration was not confirmed", registered
    )
    shown = await ctx.http.call("GET", "/webhook")
    expect(shown.status == 200 and secret not in str(shown.body), "GET /webhook does not show the url alone", shown)
    try:
        await _follow_events(ctx, receiver, secret)
    finally:
        await ctx.http.call("DELETE", "/webhook")


async def _follow_events(ctx: Context, receiver: Any, secret: str) -> None:
    body = order_body(ctx, f"CERT-{ctx.target.run_id}-hook")
    created = await ctx.http.call("POST", "/orders", json=body, headers={"Idempotency-Key": key(ctx, "hook")})
    expect(created.status == 201, f"the order for the webhook check answered {created.status}", created)
    waited = 0.0
    while not _redelivered(receiver) and waited < ctx.target.wait_s:
        await ctx.sleep(ctx.target.poll_s)
        waited += ctx.target.poll_s
    deliveries = receiver.deliveries
    expect(bool(deliveries), f"no event arrived within {ctx.target.wait_s:.0f} s", created)
    for delivery in deliveries:
        why = refusal(secret, delivery.body, delivery.signature, delivery.timestamp, delivery.received_s)
        expect(why is None, f"event {delivery.event_id} is refused: {why}")
        problems = contracts().errors("webhook-event", orjson.loads(delivery.body))
        expect(not problems, f"event {delivery.event_id} breaks the contract: {problems[:3]}")
    expect(_redelivered(receiver), "an event refused with 503 was not delivered again")


def _redelivered(receiver: Any) -> bool:
    counts = Counter(d.event_id for d in receiver.deliveries)
    return any(n > 1 for n in counts.values())
