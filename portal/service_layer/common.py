"""The steps that several services share: reaching an order's supplier, keeping evidence, storing dispatches."""

from __future__ import annotations

import logging
from collections import Counter

from portal.domain.errors import NotSendable
from portal.domain.messages import DispatchNote, OrderRequest
from portal.domain.model import ContractViolation, DispatchNotification, StockOrder
from portal.domain.setup import Coupling, CustomerNumber, OrderInterface, Supplier
from portal.domain.statuses import ACCEPTED
from portal.service_layer.context import Portal
from portal.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("portal.evidence")


async def coupled_customer(uow: UnitOfWork, supplier: Supplier, org_unit_id: int) -> CustomerNumber:
    """The org unit's coupled customer number at an ORDERPORTAL supplier, or a clear refusal."""
    if supplier.order_interface is not OrderInterface.ORDERPORTAL:
        raise NotSendable(f"supplier {supplier.name} orders the PRECASTED way, not through the Orderportal")
    customer = await uow.customers.one(supplier_id=supplier.id, org_unit_id=org_unit_id)
    if customer is None or customer.state is not Coupling.COUPLED:
        unit = await uow.org_units.get(org_unit_id)
        raise NotSendable(f"org unit {unit.code} has no coupled customer number at supplier {supplier.name}")
    return customer


async def order_supplier(uow: UnitOfWork, order: StockOrder) -> tuple[Supplier, CustomerNumber]:
    """The order's supplier and the coupled customer number its org unit reaches it with."""
    supplier = await uow.suppliers.get(order.supplier_id)
    return supplier, await coupled_customer(uow, supplier, order.org_unit_id)


async def order_request(uow: UnitOfWork, order: StockOrder) -> OrderRequest:
    """The order as the supplier takes it: the same request on every attempt."""
    unit = await uow.org_units.get(order.org_unit_id)
    return OrderRequest.of(order, unit, await uow.warehouses.get(order.warehouse_id))


def record(
    uow: UnitOfWork, portal: Portal, supplier_id: int, kind: str, detail: str, evidence: str, order_id: int | None
) -> ContractViolation:
    """Keep a contract violation in the caller's unit of work; what it reports is not applied."""
    violation = ContractViolation(supplier_id, kind, detail, evidence, portal.now(), order_id)
    uow.violations.add(violation)
    log.warning("supplier %s broke the contract (%s): %s", supplier_id, kind, detail)
    return violation


async def keep(portal: Portal, supplier_id: int, kind: str, detail: str, evidence: str, order_id: int | None) -> None:
    """Record a violation in a unit of work of its own."""
    async with portal.uow() as uow:
        record(uow, portal, supplier_id, kind, detail, evidence, order_id)
        await uow.commit()


async def store_notification(
    uow: UnitOfWork,
    portal: Portal,
    order: StockOrder,
    note: DispatchNote,
    held: list[DispatchNotification] | None = None,
) -> tuple[str, str]:
    """Keep a new dispatch notification of an accepted order; one that does not fit it is evidence.

    ``held`` is the order's notifications when the caller read them already in this transaction;
    a notification kept joins it.
    """
    number = note.notification_id
    if held is None:
        held = await uow.notifications.all(stock_order_id=order.id)
    if any(known.notification_id == number for known in held):
        return "unchanged", f"dispatch notification {number} is known"
    reason = _misfit(order, note, held)
    if reason:
        kept = await uow.violations.one(stock_order_id=order.id, kind="dispatch", detail=reason)
        if kept is None:  # the same bad notification fetched again is not new evidence
            record(uow, portal, order.supplier_id, "dispatch", reason, note.evidence, order.id)
        return "violation", reason
    fitting = DispatchNotification(
        order.id or 0,
        number,
        note.dispatched_at,
        note.lines,
        note.carrier,
        note.tracking_number,
        note.expected_delivery_date,
    )
    uow.notifications.add(fitting)
    held.append(fitting)
    return "applied", ""


def _misfit(order: StockOrder, note: DispatchNote, held: list[DispatchNotification]) -> str | None:
    """Why a notification does not fit its order (which ``held`` already ships to): not accepted, a wrong
    product, or more than ordered."""
    number = note.notification_id
    if order.portal_status != ACCEPTED:
        return f"dispatch notification {number} is for {order.number}, which is {order.portal_status}, not ACCEPTED"
    shipped = Counter[int]()
    for kept in held:
        for line in kept.lines:
            shipped[line.line_number] += line.quantity
    for line in note.lines:
        ordered = order.line_for(line.line_number)
        if ordered is None or ordered.supplier_product_number != line.supplier_product_number:
            return (
                f"dispatch notification {number}: line {line.line_number} "
                f"is not {line.supplier_product_number} on the order"
            )
        shipped[line.line_number] += line.quantity
        if shipped[line.line_number] > ordered.quantity:
            return f"dispatch notification {number} ships more of line {line.line_number} than was ordered"
    return None
