"""Receiving: dispatch notifications of accepted orders, stock receipts, and the stock they book."""

from __future__ import annotations

from collections import Counter

from portal.domain.errors import IllegalState, InvalidInput, NotFound, SupplierProblem
from portal.domain.model import (
    MAX_STOCK,
    DispatchNotification,
    ReceiptLine,
    StockOrder,
    StockOrderState,
    StockReceipt,
)
from portal.domain.statuses import ACCEPTED
from portal.service_layer import common
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import SupplierError
from portal.service_layer.unit_of_work import UnitOfWork


async def fetch_dispatch_notifications(portal: Portal, order_id: int) -> list[DispatchNotification]:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id)
        if order.portal_status != ACCEPTED or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is not accepted; only accepted orders are dispatched")
        supplier, customer = await common.order_supplier(uow, order)
    try:  # no transaction is open while the supplier answers
        notes = await portal.client_for(supplier, customer).dispatch_notifications(order.supplier_order_id)
    except SupplierError as exc:
        raise SupplierProblem(f"cannot fetch dispatch notifications of {order.number}: {exc}") from None
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        stored = await uow.notifications.all(stock_order_id=order.id)  # read once: each one kept joins it
        for note in notes:
            await common.store_notification(uow, portal, order, note, stored)
        await uow.commit()  # the new ones get their ids
        return stored


async def _received(uow: UnitOfWork, order: StockOrder) -> Counter[int]:
    """Per line, what the order's receipts (booked or not) already take in."""
    received = Counter[int]()
    for receipt in await uow.receipts.all(stock_order_id=order.id):
        for line in receipt.lines:
            received[line.line_number] += line.quantity
    return received


async def _receivable(uow: UnitOfWork, order_id: int) -> tuple[StockOrder, Counter[int]]:
    order = await uow.orders.get(order_id, lock=True)
    if order.state is not StockOrderState.SENT or order.portal_status != ACCEPTED:
        raise IllegalState(f"stock order {order.number} is not accepted by its supplier; nothing is received for it")
    return order, await _received(uow, order)


async def receipt_from_notification(
    portal: Portal, notification_id: int, quantities: dict[int, int] | None
) -> StockReceipt:
    """A receipt of what a dispatch notification shipped (or less); the same notification only once."""
    async with portal.uow() as uow:
        note = await uow.notifications.get(notification_id, lock=True)
        if note.received:
            raise IllegalState(f"dispatch notification {note.notification_id} was received already")
        order, received = await _receivable(uow, note.stock_order_id)
        shipped = {line.line_number: line.quantity for line in note.lines}
        if quantities is not None and set(quantities) - set(shipped):
            raise InvalidInput("a line that this notification did not ship cannot be received from it", field="/lines")
        lines = []
        for line_number, dispatched in shipped.items():
            quantity = dispatched if quantities is None else quantities.get(line_number, 0)
            ordered = order.line_for(line_number)
            if ordered is None:
                raise NotFound(f"stock order {order.number} has no line {line_number}")
            room = min(dispatched, ordered.quantity - received[line_number])
            if quantity > room:
                message = f"line {line_number} takes more than the {room} that can still be received"
                raise InvalidInput(message, field="/lines")
            if quantity:
                lines.append(ReceiptLine(line_number, ordered.product_id, quantity))
        if not lines:
            raise InvalidInput("the receipt would be empty", field="/lines")
        note.received = True
        receipt = StockReceipt(order.id or 0, order.warehouse_id, tuple(lines), note.id)
        uow.receipts.add(receipt)
        await uow.commit()
        return receipt


async def receipt_from_order(portal: Portal, order_id: int) -> StockReceipt:
    """A receipt of what was ordered and not yet received."""
    async with portal.uow() as uow:
        order, received = await _receivable(uow, order_id)
        lines = tuple(
            ReceiptLine(line.line_number, line.product_id, line.quantity - received[line.line_number])
            for line in order.lines
            if line.quantity > received[line.line_number]
        )
        if not lines:
            raise IllegalState(f"everything of stock order {order.number} has been received")
        receipt = StockReceipt(order.id or 0, order.warehouse_id, lines)
        uow.receipts.add(receipt)
        await uow.commit()
        return receipt


async def book_receipt(portal: Portal, receipt_id: int) -> StockReceipt:
    """Book the receipt: the target warehouse's stock rises by its quantities, once."""
    async with portal.uow() as uow:
        receipt = await uow.receipts.get(receipt_id, lock=True)
        receipt.book()
        for line in receipt.lines:
            if not await uow.stock.raise_stock(receipt.warehouse_id, line.product_id, line.quantity):
                raise InvalidInput(
                    f"line {line.line_number}: the stock would pass {MAX_STOCK:,}, the most a stock level holds",
                    field="/lines",
                )
        await uow.commit()
        return receipt


async def undispatched(portal: Portal) -> list[int]:
    """The accepted orders whose dispatch notifications do not yet cover every line in full."""
    async with portal.uow() as uow:
        accepted = await uow.orders.all(state=StockOrderState.SENT, portal_status=ACCEPTED)
        notes = await uow.notifications.among("stock_order_id", [order.id for order in accepted])
    shipped: dict[int, Counter[int]] = {}
    for note in notes:
        shipped.setdefault(note.stock_order_id, Counter()).update({x.line_number: x.quantity for x in note.lines})
    return [
        order.id or 0
        for order in accepted
        if any(shipped.get(order.id or 0, Counter())[line.line_number] < line.quantity for line in order.lines)
    ]
