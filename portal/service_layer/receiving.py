"""Receiving: dispatch notifications of accepted orders, stock receipts, and the stock they book."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from contracts.statuses import ACCEPTED
from portal.adapters.supplier_client import SupplierError
from portal.domain.errors import IllegalState, InvalidInput, NotFound, SupplierProblem
from portal.domain.model import (
    DispatchLine,
    DispatchNotification,
    ReceiptLine,
    StockLevel,
    StockOrder,
    StockReceipt,
    Supplier,
)
from portal.service_layer import evidence
from portal.service_layer.context import Portal
from portal.service_layer.ordering import coupled_customer
from portal.service_layer.unit_of_work import UnitOfWork


async def store_notification(
    uow: UnitOfWork, portal: Portal, order: StockOrder, data: dict[str, Any]
) -> tuple[str, str]:
    """Keep a new dispatch notification; one that ships more than was ordered is evidence, not stock."""
    known = await uow.one(DispatchNotification, stock_order_id=order.id, notification_id=data["dispatchNotificationId"])
    if known is not None:
        return "unchanged", f"dispatch notification {known.notification_id} is known"
    shipped = Counter[int]()
    for note in await uow.all(DispatchNotification, stock_order_id=order.id):
        for line in note.lines:
            shipped[line.line_number] += line.quantity
    for line in data["lines"]:
        ordered = order.line_for(line["lineNumber"])
        shipped[line["lineNumber"]] += line["quantity"]
        if ordered is None or shipped[line["lineNumber"]] > ordered.quantity:
            number = data["dispatchNotificationId"]
            reason = f"dispatch notification {number} ships more of line {line['lineNumber']} than was ordered"
            evidence.record(uow, portal, order.supplier_id, "over-dispatch", reason, json.dumps(data), order.id)
            return "violation", reason
    uow.add(
        DispatchNotification(
            order.id or 0,
            data["dispatchNotificationId"],
            data["dispatchedAt"],
            tuple(DispatchLine(x["lineNumber"], x["productNumber"], x["quantity"]) for x in data["lines"]),
            data.get("carrier"),
            data.get("trackingNumber"),
            data.get("expectedDeliveryDate"),
        )
    )
    return "applied", ""


async def fetch_dispatch_notifications(portal: Portal, order_id: int) -> list[DispatchNotification]:
    async with portal.uow() as uow:
        order = await uow.get(StockOrder, order_id, "stock order")
        if order.portal_status != ACCEPTED or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is not accepted; only accepted orders are dispatched")
        supplier = await uow.get(Supplier, order.supplier_id)
        customer = await coupled_customer(uow, supplier, order.org_unit_id)
        try:
            notes = await portal.client_for(supplier, customer).dispatch_notifications(order.supplier_order_id)
        except SupplierError as exc:
            raise SupplierProblem(f"cannot fetch dispatch notifications of {order.number}: {exc}") from None
        for data in notes:
            await store_notification(uow, portal, order, data)
            await uow.flush()
        await uow.commit()
        return await uow.all(DispatchNotification, stock_order_id=order.id)


async def receipt_from_notification(
    portal: Portal, notification_id: int, quantities: dict[int, int] | None
) -> StockReceipt:
    """A receipt of what a dispatch notification shipped (or less); the same notification only once."""
    async with portal.uow() as uow:
        note = await uow.get(DispatchNotification, notification_id, "dispatch notification")
        if note.received:
            raise IllegalState(f"dispatch notification {note.notification_id} was received already")
        order = await uow.get(StockOrder, note.stock_order_id, "stock order")
        lines = []
        for line in note.lines:
            quantity = line.quantity if quantities is None else quantities.get(line.line_number, 0)
            if quantity > line.quantity:
                raise InvalidInput(
                    f"line {line.line_number}: {quantity} is more than the {line.quantity} dispatched", field="/lines"
                )
            ordered = order.line_for(line.line_number)
            if ordered is None:
                raise NotFound(f"stock order {order.number} has no line {line.line_number}")
            if quantity:
                lines.append(ReceiptLine(line.line_number, ordered.product_id, quantity))
        if quantities is not None and set(quantities) - {line.line_number for line in note.lines}:
            raise InvalidInput("a line that this notification did not ship cannot be received from it", field="/lines")
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
        order = await uow.get(StockOrder, order_id, "stock order")
        received = Counter[int]()
        for receipt in await uow.all(StockReceipt, stock_order_id=order.id):
            for line in receipt.lines:
                received[line.line_number] += line.quantity
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
    """Book the receipt: the target warehouse's stock rises by its quantities."""
    async with portal.uow() as uow:
        receipt = await uow.get(StockReceipt, receipt_id, "stock receipt")
        receipt.book()
        for line in receipt.lines:
            level = await uow.one(StockLevel, warehouse_id=receipt.warehouse_id, product_id=line.product_id)
            if level is None:
                level = StockLevel(receipt.warehouse_id, line.product_id)
                uow.add(level)
            level.quantity += line.quantity
        await uow.commit()
        return receipt


async def stock_levels(portal: Portal, warehouse_id: int) -> list[StockLevel]:
    async with portal.uow() as uow:
        return await uow.all(StockLevel, order_by="product_id", warehouse_id=warehouse_id)
