"""The one documented read helper: portal state that the HTTP API does not show, for tests and the harness."""

from __future__ import annotations

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
