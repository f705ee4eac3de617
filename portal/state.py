"""What the portal holds that its HTTP API does not show, read for tests and the harness (stand-in)."""

from __future__ import annotations

from typing import Any

from portal.domain.model import CustomerNumber, DispatchNotification, StockReceipt
from portal.entrypoints.views import receipt
from portal.service_layer.context import Portal


class PortalState:
    """What the portal holds that its HTTP API does not show, read for tests and the harness; it never writes."""

    def __init__(self, portal: Portal) -> None:
        self._portal = portal

    async def webhook_secret(self, customer_number_id: int) -> str | None:
        async with self._portal.uow() as uow:
            return (await uow.get(CustomerNumber, customer_number_id)).webhook_secret

    async def receipts(self, stock_order_id: int) -> list[dict[str, Any]]:
        """Each receipt as the API shows one: {"id", "state", "lines": [{"lineNumber", "productId", "quantity"}]}."""
        async with self._portal.uow() as uow:
            return [receipt(item) for item in await uow.all(StockReceipt, stock_order_id=stock_order_id)]

    async def dispatch_notification_ids(self, stock_order_id: int) -> tuple[str, ...]:
        """The supplier's ids of the dispatch notifications the portal holds for the order, sorted."""
        async with self._portal.uow() as uow:
            held = await uow.all(DispatchNotification, stock_order_id=stock_order_id)
        return tuple(sorted(note.notification_id for note in held))
