"""Following sent orders: polling one or every open order, and receiving the supplier's webhooks."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from contracts import contracts
from contracts.signing import refusal
from contracts.statuses import ACCEPTED, NEW, PROCESSED
from portal.adapters.supplier_client import ContractBroken, SupplierError
from portal.domain import tracking
from portal.domain.errors import DomainError, IllegalState, InvalidInput, NotFound, SupplierProblem, Unauthorized
from portal.domain.model import (
    ContractViolation,
    Coupling,
    CustomerNumber,
    DispatchNotification,
    OrderInterface,
    SeenEvent,
    SendIntent,
    StatusChange,
    StockOrder,
    StockOrderState,
    Supplier,
)
from portal.service_layer import evidence
from portal.service_layer.context import Portal, history_of
from portal.service_layer.ordering import order_supplier
from portal.service_layer.receiving import fetch_dispatch_notifications, store_notification
from portal.service_layer.sending import wire_order
from portal.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("portal.webhooks")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an observation or an event did: applied, ignored (and why), or recorded as a violation."""

    result: str
    detail: str = ""


def _observe(uow: UnitOfWork, portal: Portal, order: StockOrder, observed: dict[str, Any]) -> Outcome:
    """Apply a polled order if it moves forward; keep an illegal move as evidence and apply nothing."""
    history = history_of(observed)
    verdict = tracking.judge(order, observed["status"], history)
    if verdict.action == "violation":
        proof = json.dumps(observed)
        evidence.record(uow, portal, order.supplier_id, "illegal-status", verdict.reason, proof, order.id)
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        order.portal_status, order.status_history = observed["status"], history
        order.status_updated_at = observed["updatedAt"]
        order.rejection_reason = history[-1].reason_code
    return Outcome("applied" if verdict.action == "apply" else "unchanged")


async def poll_stock_order(portal: Portal, order_id: int) -> tuple[StockOrder, Outcome]:
    async with portal.uow() as uow:
        order = await uow.get(StockOrder, order_id, "stock order")
        if order.state is not StockOrderState.SENT or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is {order.state.value}; only a sent order has a status")
        supplier, customer = await order_supplier(uow, order)
    try:  # no transaction is open while the supplier answers
        observed = await portal.client_for(supplier, customer).order(order.supplier_order_id)
    except ContractBroken as exc:
        await evidence.keep(portal, order.supplier_id, "contract", str(exc), exc.endpoint, order_id)
        raise SupplierProblem(str(exc)) from None
    except SupplierError as exc:
        raise SupplierProblem(f"cannot read the status of {order.number}: {exc}") from None
    async with portal.uow() as uow:
        # Judged against the order as it is now: a webhook may have moved it meanwhile.
        order = await uow.get(StockOrder, order_id, "stock order", lock=True)
        outcome = _observe(uow, portal, order, observed)
        await uow.commit()
        return order, outcome


async def poll_open_orders(portal: Portal, supplier_id: int) -> dict[str, int]:
    """Every order of the supplier that changed since the last poll, per coupled customer number.

    A customer number that cannot be polled now does not hold up the others; SupplierProblem says
    which failed once the rest are done.
    """
    counts = {"applied": 0, "unchanged": 0, "violation": 0, "unknown": 0, "adopted": 0}
    async with portal.uow() as uow:
        supplier = await uow.get(Supplier, supplier_id)
        customers = await uow.all(CustomerNumber, supplier_id=supplier_id, state=Coupling.COUPLED)
    failures = []
    for customer in customers:
        try:
            changed = await portal.client_for(supplier, customer).orders(updated_since=customer.poll_cursor)
        except SupplierError as exc:
            failures.append(f"customer number {customer.number}: {exc}")
            continue
        async with portal.uow() as uow:
            for observed in sorted(changed, key=lambda o: o["orderId"]):  # one lock order for every poller
                outcome = await _poll_one(uow, portal, customer, observed)
                counts[outcome.result] += 1
            if changed:
                fresh = await uow.get(CustomerNumber, customer.id or 0, "customer number", lock=True)
                fresh.poll_cursor = max(fresh.poll_cursor or "", *(o["updatedAt"] for o in changed))
            await uow.commit()
    if failures:
        raise SupplierProblem(f"cannot poll supplier {supplier.name}: {'; '.join(failures)}")
    return counts


async def _poll_one(uow: UnitOfWork, portal: Portal, customer: CustomerNumber, observed: dict[str, Any]) -> Outcome:
    """Apply one listed order to the customer number's own stock order, or adopt one whose send was lost.

    An order the supplier holds under the number of a booked order still in the outbox, with the
    same org unit, warehouse, lines, date and note, was made by an attempt whose answer never
    arrived: it is that order, sent. The number alone proves nothing: another channel, or another
    portal's database, may have used it.
    """
    mine = {"supplier_id": customer.supplier_id, "org_unit_id": customer.org_unit_id}
    order = await uow.one(StockOrder, lock=True, **mine, supplier_order_id=observed["orderId"])
    if order is not None:
        return _observe(uow, portal, order, observed)
    booked = StockOrderState.BOOKED
    order = await uow.one(StockOrder, lock=True, **mine, number=observed["orderNumber"], state=booked)
    intent = await uow.one(SendIntent, lock=True, stock_order_id=order.id) if order else None
    if order is None or intent is None or not _same_order(await wire_order(uow, order), observed):
        return Outcome("unknown")
    order.sent(observed["orderId"], observed["status"], history_of(observed), observed["updatedAt"])
    await uow.session.delete(intent)
    log.info("stock order %s adopted: the supplier holds it as %s", order.number, observed["orderId"])
    return Outcome("adopted")


def _same_order(sent: dict[str, Any], listed: dict[str, Any]) -> bool:
    """Whether the supplier's order carries every field the portal sends, with the same values."""
    theirs, ours = listed.get("lines", []), sent["lines"]
    if len(theirs) != len(ours):
        return False
    lines = [{name: line.get(name) for name in wanted} for line, wanted in zip(theirs, ours, strict=True)]
    return lines == ours and all(listed.get(name) == value for name, value in sent.items() if name != "lines")


async def catch_up(portal: Portal) -> dict[str, int]:
    """After an outage, with or without lost webhooks: every change polled, every missing dispatch fetched.

    Statuses come from each supplier's order listing since the last poll (updatedSince); dispatch
    notifications from each accepted order that has not had all it ordered dispatched yet. A supplier
    that cannot be reached now is skipped and tried on the next round.
    """
    counts = {"applied": 0, "unchanged": 0, "violation": 0, "unknown": 0, "adopted": 0, "dispatches": 0, "failed": 0}
    async with portal.uow() as uow:
        suppliers = await uow.all(Supplier, order_interface=OrderInterface.ORDERPORTAL)
    for supplier in suppliers:
        try:
            polled = await poll_open_orders(portal, supplier.id or 0)
        except DomainError as exc:  # unreachable now, or no base URL: the next round tries again
            log.warning("catching up with supplier %s failed: %s", supplier.name, exc)
            counts["failed"] += 1
            continue
        for name, count in polled.items():
            counts[name] += count
    for order_id in await _undispatched(portal):
        try:
            await fetch_dispatch_notifications(portal, order_id)
        except DomainError as exc:
            log.warning("catching up with the dispatches of stock order %s failed: %s", order_id, exc)
            counts["failed"] += 1
            continue
        counts["dispatches"] += 1
    return counts


async def _undispatched(portal: Portal) -> list[int]:
    """The accepted orders whose dispatch notifications do not yet cover every line in full."""
    async with portal.uow() as uow:
        accepted = await uow.all(StockOrder, state=StockOrderState.SENT, portal_status=ACCEPTED)
        notes = await uow.among(DispatchNotification, "stock_order_id", [order.id for order in accepted])
    shipped: dict[int, Counter[int]] = {}
    for note in notes:
        shipped.setdefault(note.stock_order_id, Counter()).update({x.line_number: x.quantity for x in note.lines})
    return [
        order.id or 0
        for order in accepted
        if any(shipped.get(order.id or 0, Counter())[line.line_number] < line.quantity for line in order.lines)
    ]


async def violations(portal: Portal, supplier_id: int) -> list[ContractViolation]:
    async with portal.uow() as uow:
        await uow.get(Supplier, supplier_id)
        return await uow.all(ContractViolation, supplier_id=supplier_id)


async def receive_webhook(
    portal: Portal, customer_id: int, raw: bytes, signature: str | None, timestamp: str | None
) -> Outcome:
    """A supplier's event: signature and freshness checked, duplicates ignored, each move judged first."""
    async with portal.uow() as uow:
        customer = await uow.get(CustomerNumber, customer_id, "customer number")
        secret = customer.webhook_secret
        why = refusal(secret, raw, signature, timestamp, time.time()) if secret else "no webhook is registered"
        if why:
            log.warning("refused a webhook event for customer number %s: %s", customer_id, why)
            raise Unauthorized(why)
        try:
            event = json.loads(raw)
        except ValueError:
            raise InvalidInput("the event is not JSON") from None
        errors = contracts().errors("webhook-event", event)
        if errors:
            listed = "; ".join(f"{e.pointer} {e.message}" for e in errors)
            evidence.record(
                uow,
                portal,
                customer.supplier_id,
                "contract",
                f"a webhook event: {listed}",
                raw.decode(errors="replace"),
                None,
            )
            await uow.commit()
            raise InvalidInput(f"the event breaks the contract: {listed}")
        data = event["data"]
        # Only the orders this customer number placed: another org unit's orders at the same supplier
        # are out of reach of this secret.
        order = await uow.one(
            StockOrder,
            lock=True,
            supplier_id=customer.supplier_id,
            org_unit_id=customer.org_unit_id,
            supplier_order_id=data["orderId"],
        )
        if order is None:
            # Perhaps its send has not committed yet: refuse, so that the supplier delivers it again.
            mine = f"no stock order of customer number {customer.number}"
            raise NotFound(f"{mine} is supplier order {data['orderId']} yet")
        if event["type"] == "dispatch_notification.created" and order.portal_status in (None, NEW, PROCESSED):
            # Events may come out of order: the acceptance may be on its way. Refused unseen, so that
            # the supplier delivers it again; the catch-up fetches it once the order is accepted.
            raise IllegalState(
                f"stock order {order.number} is {order.portal_status or NEW} here, not yet ACCEPTED: "
                "deliver the dispatch notification again after the acceptance"
            )
        uow.add(SeenEvent(customer_id, event["eventId"], portal.now()))
        try:
            await uow.flush()
        except IntegrityError:
            return Outcome("duplicate", f"event {event['eventId']} was handled already")
        outcome = await _handle(uow, portal, order, event)
        await uow.commit()
        return outcome


async def _handle(uow: UnitOfWork, portal: Portal, order: StockOrder, event: dict[str, Any]) -> Outcome:
    data = event["data"]
    if event["type"] == "dispatch_notification.created":
        return Outcome(*await store_notification(uow, portal, order, data))
    verdict = tracking.judge_event(order, data["previousStatus"], data["status"])
    if verdict.action == "violation":
        proof = json.dumps(event)
        evidence.record(uow, portal, order.supplier_id, "illegal-status", verdict.reason, proof, order.id)
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        change = StatusChange(data["status"], data["at"], data.get("reasonCode"), data.get("message"))
        order.portal_status, order.status_updated_at = data["status"], data["at"]
        order.status_history = (*order.status_history, change)
        order.rejection_reason = change.reason_code
        return Outcome("applied")
    return Outcome("ignored", verdict.reason)
