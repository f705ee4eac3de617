"""The webhook checks: the secret stays hidden; events arrive signed, valid and redelivered; DELETE removes."""

from __future__ import annotations

import orjson

from contracts import contracts
from contracts.signing import refusal
from contracts.statuses import is_legal_move
from scenarios.certify.fixtures import Hook
from scenarios.certify.registry import Blocked, Context, NotObserved, check, expect


def _events(hook: Hook) -> list:  # type: ignore[type-arg]
    if hook.registered.status != 200:
        raise Blocked(f"the webhook registration answered {hook.registered.status}, so no event can come")
    if not hook.deliveries:
        placed = hook.placed.order_id if hook.placed else None
        raise NotObserved(f"waited {hook.waited_s:.0f} s for an event after placing order {placed}; none came")
    return hook.deliveries


@check(
    "WEBHOOK-01",
    "Webhooks: the registration is confirmed, and its secret is never shown",
    rules=["WEBHOOK-R1", "WEBHOOK-R2"],
)
async def registration(ctx: Context, webhook: Hook) -> None:
    registered, shown = webhook.registered, webhook.shown
    expect(registered.status == 200, f"the registration answered {registered.status}, not 200", registered)
    expect(
        registered.fields.get("url") == webhook.url, "the registration does not confirm the receiver's url", registered
    )
    # Judged on the bytes the server sent, before the record blanks anything named like a secret.
    secret = webhook.secret.encode()
    expect(secret not in registered.raw, "the registration's answer shows the secret", registered)
    expect(
        shown.status == 200 and shown.fields.get("url") == webhook.url,
        f"GET /webhook answered {shown.status} without the url",
        shown,
    )
    expect(secret not in shown.raw, "GET /webhook shows the secret", shown)


@check(
    "WEBHOOK-02", "Every event is signed with the secret, over its timestamp and body, and fresh", rules=["WEBHOOK-R3"]
)
async def signed(ctx: Context, webhook: Hook) -> None:
    for delivery in _events(webhook):
        why = refusal(webhook.secret, delivery.body, delivery.signature, delivery.timestamp, delivery.received_s)
        expect(why is None, f"event {delivery.event_id} is refused: {why}", delivery)


@check("WEBHOOK-03", "Every event meets its contract, and its status changes are legal moves", rules=["WEBHOOK-R4"])
async def well_formed(ctx: Context, webhook: Hook) -> None:
    for delivery in _events(webhook):
        try:
            event = orjson.loads(delivery.body)
        except orjson.JSONDecodeError:
            expect(False, f"event delivery {delivery.event_id} is not JSON", delivery)
        problems = [f"{v.pointer or '/'}: {v.message}" for v in contracts().errors("webhook-event", event)]
        expect(not problems, f"event {delivery.event_id} breaks the contract: {'; '.join(problems[:3])}", delivery)
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if event.get("type") == "order.status_changed":
            before, after = data.get("previousStatus"), data.get("status")
            expect(
                is_legal_move(str(before), str(after)), f"event {delivery.event_id} moves the order {before} -> {after}"
            )


@check("WEBHOOK-04", "An event refused with 503 is delivered again", rules=["WEBHOOK-R5"])
async def redelivered(ctx: Context, webhook: Hook) -> None:
    deliveries = _events(webhook)
    expect(
        webhook.redelivered,
        f"no event refused with 503 was delivered again within {webhook.waited_s:.0f} s ({len(deliveries)} deliveries)",
        *deliveries[:3],
    )


@check("WEBHOOK-05", "DELETE removes the receiver: GET then answers 404", rules=["WEBHOOK-R6"])
async def deleted(ctx: Context, webhook: Hook) -> None:
    if webhook.registered.status != 200:
        raise Blocked(f"the webhook registration answered {webhook.registered.status}, so there is nothing to delete")
    removed = await ctx.http.call("DELETE", "/webhook")
    expect(removed.status == 204, f"DELETE /webhook answered {removed.status}, not 204", removed)
    after = await ctx.http.call("GET", "/webhook")
    expect(after.status == 404, f"GET /webhook after DELETE answered {after.status}, not 404", removed, after)
