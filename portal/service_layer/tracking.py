"""Following sent orders: polling one or every open order, and receiving the supplier's webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from contracts import contracts
from portal.adapters.supplier_client import ContractBroken, SupplierError
from portal.adapters.webhook_signature import verify
from portal.domain import tracking
from portal.domain.errors import IllegalState, InvalidInput, SupplierProblem, Unauthorized
from portal.domain.model import (
    ContractViolation,
    Coupling,
    CustomerNumber,
    SeenEvent,
    StatusChange,
    StockOrder,
    StockOrderState,
    Supplier,
)
from portal.service_layer import evidence
from portal.service_layer.context import Portal
from portal.service_layer.ordering import coupled_customer
from portal.service_layer.receiving import store_notification
from portal.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an observation or an event did: applied, ignored (and why), or recorded as a violation."""

    result: str
    detail: str = ""


def _history(order: dict[str, Any]) -> tuple[StatusChange, ...]:
    return tuple(
        StatusChange(h["status"], h["at"], h.get("reasonCode"), h.get("message")) for h in order["statusHistory"]
    )


async def _observe(uow: UnitOfWork, portal: Portal, order: StockOrder, observed: dict[str, Any]) -> Outcome:
    """Apply a polled order if it moves forward; keep an illegal move as evidence and apply nothing."""
    history = _history(observed)
    verdict = tracking.judge(order, observed["status"], history)
    if verdict.action == "violation":
        evidence.record(
            uow, portal, order.supplier_id, "illegal-status", verdict.reason, json.dumps(observed), order.id
        )
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        order.portal_status, order.status_history, order.status_updated_at = (
            observed["status"],
            history,
            observed["updatedAt"],
        )
        order.rejection_reason = history[-1].reason_code
    return Outcome("applied" if verdict.action == "apply" else "unchanged")


async def poll_stock_order(portal: Portal, order_id: int) -> tuple[StockOrder, Outcome]:
    async with portal.uow() as uow:
        order = await uow.get(StockOrder, order_id, "stock order")
        if order.state is not StockOrderState.SENT or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is {order.state.value}; only a sent order has a status")
        supplier = await uow.get(Supplier, order.supplier_id)
        customer = await coupled_customer(uow, supplier, order.org_unit_id)
        try:
            observed = await portal.client_for(supplier, customer).order(order.supplier_order_id)
        except ContractBroken as exc:
            evidence.record(uow, portal, order.supplier_id, "contract", str(exc), exc.endpoint, order.id)
            await uow.commit()
            raise SupplierProblem(str(exc)) from None
        except SupplierError as exc:
            raise SupplierProblem(f"cannot read the status of {order.number}: {exc}") from None
        outcome = await _observe(uow, portal, order, observed)
        await uow.commit()
        return order, outcome


async def poll_open_orders(portal: Portal, supplier_id: int) -> dict[str, int]:
    """Every order of the supplier that changed since the last poll, per coupled customer number."""
    counts = {"applied": 0, "unchanged": 0, "violation": 0, "unknown": 0}
    async with portal.uow() as uow:
        supplier = await uow.get(Supplier, supplier_id)
        customers = await uow.all(CustomerNumber, supplier_id=supplier_id, state=Coupling.COUPLED)
    for customer in customers:
        async with portal.uow() as uow:
            try:
                changed = await portal.client_for(supplier, customer).orders(updated_since=customer.poll_cursor)
            except SupplierError as exc:
                raise SupplierProblem(f"cannot poll supplier {supplier.name}: {exc}") from None
            sent = {
                o.supplier_order_id: o
                for o in await uow.all(StockOrder, supplier_id=supplier_id, org_unit_id=customer.org_unit_id)
            }
            for observed in changed:
                order = sent.get(observed["orderId"])
                outcome = await _observe(uow, portal, order, observed) if order else Outcome("unknown")
                counts[outcome.result] += 1
            if changed:
                fresh = await uow.get(CustomerNumber, customer.id or 0, "customer number")
                fresh.poll_cursor = max(o["updatedAt"] for o in changed)
            await uow.commit()
    return counts


async def violations(portal: Portal, supplier_id: int) -> list[ContractViolation]:
    async with portal.uow() as uow:
        await uow.get(Supplier, supplier_id)
        return await uow.all(ContractViolation, supplier_id=supplier_id)


async def receive_webhook(portal: Portal, customer_id: int, raw: bytes, signature: str | None) -> Outcome:
    """A supplier's event: signature checked, duplicates ignored, each move judged before it is applied."""
    async with portal.uow() as uow:
        customer = await uow.get(CustomerNumber, customer_id, "customer number")
        if not customer.webhook_secret or not verify(customer.webhook_secret, raw, signature):
            raise Unauthorized("the X-Signature does not match the body")
        try:
            event = json.loads(raw)
        except ValueError:
            raise InvalidInput("the event is not JSON") from None
        errors = contracts().errors("webhook-event", event)
        if errors:
            raise InvalidInput(
                "the event breaks the contract: " + "; ".join(f"{e.pointer} {e.message}" for e in errors)
            )
        uow.add(SeenEvent(event["eventId"], portal.now()))
        try:
            await uow.flush()
        except IntegrityError:
            return Outcome("duplicate", f"event {event['eventId']} was handled already")
        outcome = await _handle(uow, portal, customer, event)
        await uow.commit()
        return outcome


async def _handle(uow: UnitOfWork, portal: Portal, customer: CustomerNumber, event: dict[str, Any]) -> Outcome:
    data = event["data"]
    order = await uow.one(StockOrder, supplier_id=customer.supplier_id, supplier_order_id=data["orderId"])
    if order is None:
        return Outcome("unknown", f"no stock order is supplier order {data['orderId']}")
    if event["type"] == "dispatch_notification.created":
        return Outcome(*await store_notification(uow, portal, order, data))
    verdict = tracking.judge_event(order, data["previousStatus"], data["status"])
    if verdict.action == "violation":
        evidence.record(uow, portal, order.supplier_id, "illegal-status", verdict.reason, json.dumps(event), order.id)
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        change = StatusChange(data["status"], data["at"], data.get("reasonCode"), data.get("message"))
        order.portal_status, order.status_updated_at = data["status"], data["at"]
        order.status_history = (*order.status_history, change)
        order.rejection_reason = change.reason_code
        return Outcome("applied")
    return Outcome("ignored", verdict.reason)
