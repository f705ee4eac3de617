"""The worker's round: deliver the outbox, then catch up with every supplier; it composes the services."""

from __future__ import annotations

import logging

from portal.domain.errors import DomainError
from portal.service_layer import receiving, sending, tracking
from portal.service_layer.context import Portal

log = logging.getLogger("portal.webhooks")  # where the catch-up has always logged


async def sync(portal: Portal, everything: bool = False) -> dict[str, dict[str, int]]:
    """One round; ``everything`` attempts every waiting order now, not only those that are due."""
    return {"outbox": await sending.deliver_due(portal, everything), "catchUp": await catch_up(portal)}


async def catch_up(portal: Portal) -> dict[str, int]:
    """After an outage, with or without lost webhooks: every change polled, every missing dispatch fetched.

    Statuses come from each supplier's order listing since the last poll (updatedSince); dispatch
    notifications from each accepted order that has not had all it ordered dispatched yet. A supplier
    that cannot be reached now is skipped and tried on the next round.
    """
    counts = {"applied": 0, "unchanged": 0, "violation": 0, "unknown": 0, "adopted": 0, "dispatches": 0, "failed": 0}
    for supplier_id, name in await tracking.orderportal_suppliers(portal):
        try:
            polled = await tracking.poll_open_orders(portal, supplier_id)
        except DomainError as exc:  # unreachable now, or no base URL: the next round tries again
            log.warning("catching up with supplier %s failed: %s", name, exc)
            counts["failed"] += 1
            continue
        for outcome, count in polled.items():
            counts[outcome] += count
    for order_id in await receiving.undispatched(portal):
        try:
            await receiving.fetch_dispatch_notifications(portal, order_id)
        except DomainError as exc:
            log.warning("catching up with the dispatches of stock order %s failed: %s", order_id, exc)
            counts["failed"] += 1
            continue
        counts["dispatches"] += 1
    return counts
