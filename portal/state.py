"""The one documented read helper: portal state that the HTTP API does not show, for tests and the harness."""

from __future__ import annotations

from typing import Any

from portal.entrypoints import views
from portal.service_layer.context import Portal


class PortalState:
    """What the portal holds that its HTTP API does not show, read for tests and the harness; it never writes."""

    def __init__(self, portal: Portal) -> None:
        self._portal = portal

    async def webhook_secret(self, customer_number_id: int) -> str | None:
        """The secret the portal gave the supplier to sign its events with; None without webhooks."""
        async with self._portal.uow() as uow:
            customer = await uow.customers.one(id=customer_number_id)
        return None if customer is None else customer.webhook_secret

    async def idempotency_key(self, stock_order_id: int) -> str | None:
        """The key the order is sent with, fixed at booking; None before."""
        async with self._portal.uow() as uow:
            return (await uow.orders.get(stock_order_id)).idempotency_key

    async def receipts(self, stock_order_id: int) -> list[dict[str, Any]]:
        """Each receipt as the API shows one: its id, state and lines (lineNumber, productId, quantity), and more."""
        async with self._portal.uow() as uow:
            found = await uow.receipts.all(stock_order_id=stock_order_id)
        return [views.receipt(receipt) for receipt in found]

    async def dispatch_notification_ids(self, stock_order_id: int) -> tuple[str, ...]:
        """The supplier's ids of the dispatch notifications the portal holds for the order, sorted."""
        async with self._portal.uow() as uow:
            held = await uow.notifications.all(stock_order_id=stock_order_id)
        return tuple(sorted(note.notification_id for note in held))
