"""The webhook checks: the secret stays hidden; events arrive signed, valid and redelivered; DELETE removes."""

from __future__ import annotations

from typing import Any

import orjson

from contracts import contracts
from contracts.signing import refusal
from contracts.statuses import is_legal_move
from scenarios.certify.fixtures import Hook
from scenarios.certify.registry import Blocked, Context, NotObserved, check, expect


def _events(hook: Hook) -> list[Any]:
    if hook.registered.status != 200:
        raise Blocked(f"the webhook registration {hook.registered.said}, so no event can come")
    if not hook.deliveries:
        placed = hook.placed.order_id if hook.placed else None
        raise NotObserved(f"waited {hook.waited_s:.0f} s for an event after placing order {placed}; none came")
    return list(hook.deliveries)


@check(
    "WEBHOOK-01",
    "Webhooks: the registration is confirmed, and its secret is never shown",
    rules=["WEBHOOK-R1", "WEBHOOK-R2"],
)
async def registration(ctx: Context, webhook: Hook) -> None:
    registered, shown = webhook.registered, webhook.shown
    # Judged on the bytes the server sent, before the record blanks anything named like a secret.
    secret = webhook.secret.encode()
    expect(secret not in registered.raw, "the registration's answer shows the secret", registered, rules=["WEBHOOK-R2"])
    expect(secret not in shown.raw, "GET /webhook shows the secret", shown, rules=["WEBHOOK-R2"])
    confirmed = registered.status == 200 and registered.fields.get("url") == webhook.url
    expect(
        confirmed, f"the registration {registered.said} without the receiver's url", registered, rules=["WEBHOOK-R1"]
    )
    listed = shown.status == 200 and shown.fields.get("url") == webhook.url
    expect(listed, f"GET /webhook {shown.said} without the receiver's url", shown, rules=["WEBHOOK-R1"])


@check(
    "WEBHOOK-02", "Every event is signed with the secret, over its timestamp and body, and fresh", rules=["WEBHOOK-R3"]
)
async def signed(ctx: Context, hook_events: Hook) -> None:
    for delivery in _events(hook_events):
        why = refusal(hook_events.secret, delivery.body, delivery.signature, delivery.timestamp, delivery.received_s)
        expect(why is None, f"event {delivery.event_id} is refused: {why}", delivery)


@check("WEBHOOK-03", "Every event meets its contract, and its status changes are legal moves", rules=["WEBHOOK-R4"])
async def well_formed(ctx: Context, hook_events: Hook) -> None:
    for delivery in _events(hook_events):
        try:
            event = orjson.loads(delivery.body)
        except orjson.JSONDecodeError:
            event = None
        expect(isinstance(event, dict), f"event delivery {delivery.event_id} is not a JSON object", delivery)
        problems = [f"{v.pointer or '/'}: {v.message}" for v in contracts().errors("webhook-event", event)]
        expect(not problems, f"event {delivery.event_id} breaks the contract: {'; '.join(problems[:3])}", delivery)
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if event.get("type") == "order.status_changed":
            before, after = data.get("previousStatus"), data.get("status")
            legal = is_legal_move(str(before), str(after))
            expect(legal, f"event {delivery.event_id} moves the order {before} -> {after}", delivery)


@check("WEBHOOK-04", "An event refused with 503 is delivered again", rules=["WEBHOOK-R5"])
async def redelivered(ctx: Context, hook_events: Hook) -> None:
    deliveries = _events(hook_events)
    expect(
        hook_events.redelivered,
        f"no event refused with 503 was delivered again within {hook_events.waited_s:.0f} s "
        f"({len(deliveries)} deliveries)",
        *deliveries[:3],
    )


@check("WEBHOOK-05", "DELETE removes the receiver: GET then answers 404", rules=["WEBHOOK-R6"])
async def deleted(ctx: Context, hook_events: Hook) -> None:
    if hook_events.registered.status != 200:
        raise Blocked(f"the webhook registration {hook_events.registered.said}, so there is nothing to delete")
    removed = await ctx.http.call("DELETE", "/webhook")
    expect(removed.status == 204, f"DELETE /webhook {removed.said}, not 204", removed)
    after = await ctx.http.call("GET", "/webhook")
    expect(after.status == 404, f"GET /webhook after DELETE {after.said}, not 404", removed, after)
