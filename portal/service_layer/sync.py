"""The worker's round: deliver the outbox, then catch up with every supplier."""

from __future__ import annotations

from portal.service_layer import sending, tracking
from portal.service_layer.context import Portal


async def sync(portal: Portal, everything: bool = False) -> dict[str, dict[str, int]]:
    """One round; ``everything`` attempts every waiting order now, not only those that are due."""
    return {"outbox": await sending.deliver_due(portal, everything), "catchUp": await tracking.catch_up(portal)}
