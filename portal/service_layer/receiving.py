"""Receiving: dispatch notifications of accepted orders, stock receipts, and the stock they book."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from contracts.statuses import ACCEPTED
from portal.adapters import stock_store
from portal.adapters.supplier_client import SupplierError
from portal.domain.errors import IllegalState, InvalidInput, NotFound, SupplierProblem
from portal.domain.model import (
    ContractViolation,
    DispatchLine,
    DispatchNotification,
    ReceiptLine,
    StockLevel,
    StockOrder,
    StockOrderState,
    StockReceipt,
    Warehouse,
)
from portal.service_layer import evidence
from portal.service_layer.context import Portal
from portal.service_layer.ordering import order_supplier
from portal.service_layer.unit_of_work import UnitOfWork


async def store_notification(
    uow: UnitOfWork, portal: Portal, order: StockOrder, data: dict[str, Any]
) -> tuple[str, str]:
    """Keep a new dispatch notification of an accepted order; one that does not fit it is evidence."""
    number = data["dispatchNotificationId"]
    known = await uow.one(DispatchNotification, stock_order_id=order.id, notification_id=number)
    if known is not None:
        return "unchanged", f"dispatch notification {number} is known"
    reason = await _misfit(uow, order, data)
    if reason:
        kept = await uow.one(ContractViolation, stock_order_id=order.id, kind="dispatch", detail=reason)
        if kept is None:  # the same bad notification fetched again is not new evidence
            evidence.record(uow, portal, order.supplier_id, "dispatch", reason, json.dumps(data), order.id)
        return "violation", reason
    lines = tuple(DispatchLine(x["lineNumber"], x["productNumber"], x["quantity"]) for x in data["lines"])
    uow.add(
        DispatchNotification(
            order.id or 0,
            number,
            data["dispatchedAt"],
            lines,
            data.get("carrier"),
            data.get("trackingNumber"),
            data.get("expectedDeliveryDate"),
        )
    )
    return "applied", ""


async def _misfit(uow: UnitOfWork, order: StockOrder, data: dict[str, Any]) -> str | None:
    """Why a notification does not fit its order: not accepted, a wrong product, or more than ordered."""
    number = data["dispatchNotificationId"]
    if order.portal_status != ACCEPTED:
        return f"dispatch notification {number} is for {order.number}, which is {order.portal_status}, not ACCEPTED"
    shipped = Counter[int]()
    for note in await uow.all(DispatchNotification, stock_order_id=order.id):
        for line in note.lines:
            shipped[line.line_number] += line.quantity
    for line in data["lines"]:
        ordered = order.line_for(line["lineNumber"])
        if ordered is None or ordered.supplier_product_number != line["productNumber"]:
            return (
                f"dispatch notification {number}: line {line['lineNumber']} is not {line['productNumber']} on the order"
            )
        shipped[line["lineNumber"]] += line["quantity"]
        if shipped[line["lineNumber"]] > ordered.quantity:
            return f"dispatch notification {number} ships more of line {line['lineNumber']} than was ordered"
    return None


async def fetch_dispatch_notifications(portal: Portal, order_id: int) -> list[DispatchNotification]:
    async with portal.uow() as uow:
        order = await uow.get(StockOrder, order_id, "stock order")
        if order.portal_status != ACCEPTED or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is not accepted; only accepted orders are dispatched")
        supplier, customer = await order_supplier(uow, order)
    try:  # no transaction is open while the supplier answers
        notes = await portal.client_for(supplier, customer).dispatch_notifications(order.supplier_order_id)
    except SupplierError as exc:
        raise SupplierProblem(f"cannot fetch dispatch notifications of {order.number}: {exc}") from None
    async with portal.uow() as uow:
        order = await uow.get(StockOrder, order_id, "stock order", lock=True)
        for data in notes:
            await store_notification(uow, portal, order, data)
            await uow.flush()
        await uow.commit()
        return await uow.all(DispatchNotification, stock_order_id=order.id)


async def _received(uow: UnitOfWork, order: StockOrder) -> Counter[int]:
    """Per line, what the order's receipts (booked or not) already take in."""
    received = Counter[int]()
    for receipt in await uow.all(StockReceipt, stock_order_id=order.id):
        for line in receipt.lines:
            received[line.line_number] += line.quantity
    return received


async def _receivable(uow: UnitOfWork, order_id: int) -> tuple[StockOrder, Counter[int]]:
    order = await uow.get(StockOrder, order_id, "stock order", lock=True)
    if order.state is not StockOrderState.SENT or order.portal_status != ACCEPTED:
        raise IllegalState(f"stock order {order.number} is not accepted by its supplier; nothing is received for it")
    return order, await _received(uow, order)


async def receipt_from_notification(
    portal: Portal, notification_id: int, quantities: dict[int, int] | None
) -> StockReceipt:
    """A receipt of what a dispatch notification shipped (or less); the same notification only once."""
    async with portal.uow() as uow:
        note = await uow.get(DispatchNotification, notification_id, "dispatch notification", lock=True)
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
                message = f"line {line_number}: {quantity} is more than the {room} that can still be received"
                raise InvalidInput(message, field="/lines")
            if quantity:
                lines.append(ReceiptLine(line_number, ordered.product_id, quantity))
        if not lines:
            raise InvalidInput("the receipt would be empty", field="/lines")
        note.received = True
        receipt = StockReceipt(order.id or 0, order.warehouse_id, tuple(lines), note.id)
        uow.add(receipt)
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
        uow.add(receipt)
        await uow.commit()
        return receipt


async def book_receipt(portal: Portal, receipt_id: int) -> StockReceipt:
    """Book the receipt: the target warehouse's stock rises by its quantities, once."""
    async with portal.uow() as uow:
        receipt = await uow.get(StockReceipt, receipt_id, "stock receipt", lock=True)
        receipt.book()
        for line in receipt.lines:
            await stock_store.raise_stock(uow.session, receipt.warehouse_id, line.product_id, line.quantity)
        await uow.commit()
        return receipt


async def stock_levels(portal: Portal, warehouse_id: int) -> list[StockLevel]:
    async with portal.uow() as uow:
        await uow.get(Warehouse, warehouse_id)
        return await uow.all(StockLevel, order_by="product_id", warehouse_id=warehouse_id)
