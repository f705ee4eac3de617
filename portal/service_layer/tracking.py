"""Following sent orders: polling one or every open order, and the supplier's verified webhook events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portal.domain import tracking
from portal.domain.errors import IllegalState, NotFound, SupplierProblem
from portal.domain.messages import DispatchEvent, SupplierOrder, WebhookEvent
from portal.domain.model import ContractViolation, SeenEvent, StockOrder, StockOrderState
from portal.domain.setup import Coupling, CustomerNumber, OrderInterface
from portal.domain.statuses import NEW, PROCESSED
from portal.service_layer import common
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import ContractBroken, SupplierError
from portal.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("portal.webhooks")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an observation or an event did: applied, ignored (and why), or recorded as a violation."""

    result: str
    detail: str = ""


def _observe(uow: UnitOfWork, portal: Portal, order: StockOrder, observed: SupplierOrder) -> Outcome:
    """Apply a polled order if it moves forward; keep an illegal move as evidence and apply nothing."""
    history = observed.history
    verdict = tracking.judge(order, observed.status, history, observed.updated_at)
    if verdict.action == "violation":
        proof = observed.evidence
        common.record(uow, portal, order.supplier_id, "illegal-status", verdict.reason, proof, order.id)
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        order.portal_status, order.status_history = observed.status, history
        order.status_updated_at = observed.updated_at
        order.rejection_reason = history[-1].reason_code
    return Outcome("applied" if verdict.action == "apply" else "unchanged", verdict.reason)


async def poll_stock_order(portal: Portal, order_id: int) -> tuple[StockOrder, Outcome]:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id)
        if order.state is not StockOrderState.SENT or order.supplier_order_id is None:
            raise IllegalState(f"stock order {order.number} is {order.state.value}; only a sent order has a status")
        supplier, customer = await common.order_supplier(uow, order)
    try:  # no transaction is open while the supplier answers
        observed = await portal.client_for(supplier, customer).order(order.supplier_order_id)
    except ContractBroken as exc:
        await common.keep(portal, order.supplier_id, "contract", str(exc), exc.endpoint, order_id)
        raise SupplierProblem(str(exc)) from None
    except SupplierError as exc:
        raise SupplierProblem(f"cannot read the status of {order.number}: {exc}") from None
    async with portal.uow() as uow:
        # Judged against the order as it is now: a webhook may have moved it meanwhile.
        order = await uow.orders.get(order_id, lock=True)
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
        supplier = await uow.suppliers.get(supplier_id)
        customers = await uow.customers.all(supplier_id=supplier_id, state=Coupling.COUPLED)
    failures = []
    for customer in customers:
        try:
            changed = await portal.client_for(supplier, customer).orders(updated_since=customer.poll_cursor)
        except SupplierError as exc:
            failures.append(f"customer number {customer.number}: {exc}")
            continue
        async with portal.uow() as uow:
            for observed in sorted(changed, key=lambda o: o.order_id):  # one lock order for every poller
                outcome = await _poll_one(uow, portal, customer, observed)
                counts[outcome.result] += 1
            if changed:
                fresh = await uow.customers.get(customer.id or 0, lock=True)
                fresh.poll_cursor = max(fresh.poll_cursor or "", *(o.updated_at for o in changed))
            await uow.commit()
    if failures:
        raise SupplierProblem(f"cannot poll supplier {supplier.name}: {'; '.join(failures)}")
    return counts


async def _poll_one(uow: UnitOfWork, portal: Portal, customer: CustomerNumber, observed: SupplierOrder) -> Outcome:
    """Apply one listed order to the customer number's own stock order, or adopt one whose send was lost.

    An order the supplier holds under the number of a booked order still in the outbox, with the
    same request, that the supplier says was created with this order's Idempotency-Key, was made by
    an attempt whose answer never arrived: it is that order, sent. The number and the lines prove
    nothing: another channel, or another portal's database with the same master data (before and
    after a reset), may have used them. A supplier that does not echo the key proves nothing
    either; the outbox then sends again with the same key, which the supplier answers with the
    order it already has.
    """
    mine = {"supplier_id": customer.supplier_id, "org_unit_id": customer.org_unit_id}
    order = await uow.orders.one(lock=True, **mine, supplier_order_id=observed.order_id)
    if order is not None:
        return _observe(uow, portal, order, observed)
    booked = StockOrderState.BOOKED
    order = await uow.orders.one(lock=True, **mine, number=observed.order_number, state=booked)
    intent = await uow.intents.one(lock=True, stock_order_id=order.id) if order else None
    if order is None or intent is None or not observed.made_by(intent.idempotency_key):
        return Outcome("unknown")
    if not (await common.order_request(uow, order)).carried_by(observed.request):
        return Outcome("unknown")
    order.sent(observed.order_id, observed.status, observed.history, observed.updated_at)
    await uow.intents.remove(intent)
    log.info("stock order %s adopted: the supplier holds it as %s", order.number, observed.order_id)
    return Outcome("adopted")


async def violations(portal: Portal, supplier_id: int) -> list[ContractViolation]:
    async with portal.uow() as uow:
        await uow.suppliers.get(supplier_id)
        return await uow.violations.all(supplier_id=supplier_id)


async def keep_broken_event(portal: Portal, customer_id: int, listed: str, raw: str) -> None:
    """A signed event that breaks the contract: kept as evidence, and nothing of it is applied."""
    async with portal.uow() as uow:
        customer = await uow.customers.get(customer_id)
        common.record(uow, portal, customer.supplier_id, "contract", f"a webhook event: {listed}", raw, None)
        await uow.commit()


async def receive_event(portal: Portal, customer_id: int, event: WebhookEvent) -> Outcome:
    """A supplier's verified event: duplicates ignored, each move judged first."""
    return await receive_signed_event(portal, customer_id, lambda _secret: event)


async def receive_signed_event(portal: Portal, customer_id: int, read: Callable[[str | None], WebhookEvent]) -> Outcome:
    """A supplier's event, verified and read by ``read`` with the customer number's webhook secret (None
    when none is registered): duplicates ignored, each move judged first.

    ``read`` refuses a body that is not the supplier's own, fresh, or within the contract by raising,
    and then nothing is kept. The secret is read in the transaction that applies the event: one
    transaction per event.
    """
    async with portal.uow() as uow:
        customer = await uow.customers.get(customer_id)
        event = read(customer.webhook_secret)
        # Only the orders this customer number placed: another org unit's orders at the same supplier
        # are out of reach of this secret.
        order = await uow.orders.one(
            lock=True,
            supplier_id=customer.supplier_id,
            org_unit_id=customer.org_unit_id,
            supplier_order_id=event.order_id,
        )
        if order is None:
            # Perhaps its send has not committed yet: refuse, so that the supplier delivers it again.
            mine = f"no stock order of customer number {customer.number}"
            raise NotFound(f"{mine} is the event's supplier order yet")
        if isinstance(event, DispatchEvent) and order.portal_status in (None, NEW, PROCESSED):
            # Events may come out of order: the acceptance may be on its way. Refused unseen, so that
            # the supplier delivers it again; the catch-up fetches it once the order is accepted.
            raise IllegalState(
                f"stock order {order.number} is {order.portal_status or NEW} here, not yet ACCEPTED: "
                "deliver the dispatch notification again after the acceptance"
            )
        if not await uow.seen_events.first_time(SeenEvent(customer_id, event.event_id, portal.now())):
            return Outcome("duplicate", f"event {event.event_id} was handled already")
        outcome = await _handle(uow, portal, order, event)
        await uow.commit()
        return outcome


async def _handle(uow: UnitOfWork, portal: Portal, order: StockOrder, event: WebhookEvent) -> Outcome:
    if isinstance(event, DispatchEvent):
        return Outcome(*await common.store_notification(uow, portal, order, event.note))
    change = event.change
    verdict = tracking.judge_event(order, event.previous, change.status)
    if verdict.action == "violation":
        common.record(uow, portal, order.supplier_id, "illegal-status", verdict.reason, event.evidence, order.id)
        return Outcome("violation", verdict.reason)
    if verdict.action == "apply":
        order.portal_status, order.status_updated_at = change.status, change.at
        order.status_history = (*order.status_history, change)
        order.rejection_reason = change.reason_code
        return Outcome("applied")
    return Outcome("ignored", verdict.reason)


async def orderportal_suppliers(portal: Portal) -> list[tuple[int, str]]:
    """The suppliers ordered through the Orderportal, by id and name: the ones the catch-up polls."""
    async with portal.uow() as uow:
        suppliers = await uow.suppliers.all(order_interface=OrderInterface.ORDERPORTAL)
    return [(supplier.id or 0, supplier.name) for supplier in suppliers]
