"""A supplier's webhook event at the edge: its signature and freshness, its JSON, its contract, its translation."""

from __future__ import annotations

import time

from contracts import bodies, contracts
from contracts.bodies import decode_json
from contracts.signing import refusal
from portal.adapters import translation
from portal.domain.messages import WebhookEvent


class NotJson(Exception):
    """The body is not JSON."""


class BrokenEvent(Exception):
    """JSON that breaks the webhook-event contract; lists every failing field."""

    def __init__(self, listed: str) -> None:
        super().__init__(listed)
        self.listed = listed


def refused(secret: str | None, raw: bytes, signature: str | None, timestamp: str | None) -> str | None:
    """Why an event is not the supplier's own, signed just now with ``secret``; None when it is."""
    if not secret:
        return "no webhook is registered"
    return refusal(secret, raw, signature, timestamp, time.time())


def event_of(raw: bytes) -> WebhookEvent:
    """The event a verified body carries; NotJson or BrokenEvent when it carries none."""
    try:
        event = decode_json(raw)
    except bodies.NotJson as exc:
        raise NotJson(str(exc).replace("the body", "the event", 1)) from None
    errors = contracts().errors("webhook-event", event)
    if errors:
        raise BrokenEvent("; ".join(f"{e.pointer} {e.message}" for e in errors))
    return translation.webhook_event(event)
