"""Sending booked orders through a durable outbox: the intent is committed first, then delivered.

Send Stock Order commits a SendIntent and delivers it at once. If the supplier gives no usable
answer, the intent stays and the delivery worker tries again later with the same Idempotency-Key;
if the portal dies between the supplier's answer and its own commit, the intent is still there
after the restart and the resend finds the same order at the supplier. Only a refusal of the order
itself removes the intent (see _failed); the order stays booked, and the user decides. The key is
the order's own, fixed at booking, so a later send, even after a withdrawal, is still safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from portal.domain.errors import DomainError, IllegalState, NotFound, SupplierProblem
from portal.domain.messages import OrderRequest
from portal.domain.model import SendIntent, StockOrder, StockOrderState
from portal.domain.setup import CustomerNumber, Supplier
from portal.service_layer import common
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import (
    ContractBroken,
    CustomerNumberRefused,
    SupplierError,
    SupplierRejected,
    SupplierUnreachable,
    WrongCredentials,
)
from portal.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("portal.outbox")
REFUSALS = frozenset({400, 422})  # the order itself is refused: no attempt with this body was ever taken


@dataclass(frozen=True, slots=True)
class Sending:
    """A stock order as it is now, and its outbox entry while it waits to be sent."""

    order: StockOrder
    intent: SendIntent | None
    unreachable: bool = False  # the last attempt got no answer at all


async def send_stock_order(portal: Portal, order_id: int) -> Sending:
    """Queue a booked order in the outbox and deliver it now; a second send of a queued order just delivers."""
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        if order.state is StockOrderState.SENT:
            return Sending(order, None)  # a resend after a lost answer: the order is there already
        if order.state is not StockOrderState.BOOKED:
            raise IllegalState(f"stock order {order.number} is {order.state.value}; only a booked order is sent")
        supplier, customer = await common.order_supplier(uow, order)  # refuses when nothing could deliver it
        queued = None
        if await uow.intents.one(stock_order_id=order_id) is None:
            assert order.idempotency_key is not None, "booking gives the key"
            uow.intents.add(SendIntent(order_id, order.idempotency_key, portal.now(), next_attempt_ms=portal.now_ms()))
            # The first attempt goes with what this transaction read under the order's lock.
            queued = Attempt(order, order.idempotency_key, supplier, customer, await common.order_request(uow, order))
            await uow.commit()
    return await deliver(portal, order_id, queued)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt sends: the booked order's request, with its key, to its supplier."""

    order: StockOrder
    key: str
    supplier: Supplier
    customer: CustomerNumber
    request: OrderRequest


async def deliver(portal: Portal, order_id: int, attempt: Attempt | None = None) -> Sending:
    """One attempt at the order's intent: sent, queued for another attempt, or refused (SupplierProblem)."""
    if order_id in portal.delivering:  # the worker and a user's click at once: one attempt is enough
        return await stock_order(portal, order_id)
    portal.delivering.add(order_id)
    try:
        attempt_or_done = attempt or await _next_attempt(portal, order_id)
        if isinstance(attempt_or_done, Sending):
            return attempt_or_done
        return await _deliver(portal, order_id, attempt_or_done)
    finally:
        portal.delivering.discard(order_id)


async def _next_attempt(portal: Portal, order_id: int) -> Attempt | Sending:
    """The intent's next attempt, or the order as it is when there is nothing left to send."""
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id)
        intent = await uow.intents.one(stock_order_id=order_id)
        if intent is None or order.state is not StockOrderState.BOOKED:
            return Sending(order, intent)
        # Looked up again, not taken from the send that queued it: a customer number uncoupled since
        # (its credentials refused on another order, say) must not be called with them.
        supplier, customer = await common.order_supplier(uow, order)
        return Attempt(order, intent.idempotency_key, supplier, customer, await common.order_request(uow, order))


async def _deliver(portal: Portal, order_id: int, attempt: Attempt) -> Sending:
    try:  # no transaction is open while the supplier answers
        answer = await portal.client_for(attempt.supplier, attempt.customer).create_order(attempt.request, attempt.key)
    except SupplierError as exc:
        return await _failed(portal, attempt.order, exc)
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        if order.state is StockOrderState.BOOKED:
            order.sent(answer.order_id, answer.status, answer.history, answer.updated_at)
        await _forget(uow, order_id)
        await uow.commit()
        return Sending(order, None)


async def _failed(portal: Portal, tried: StockOrder, exc: SupplierError) -> Sending:
    """What a failed attempt leaves behind; SupplierProblem when the supplier said no.

    The intent is dropped only when the supplier refuses the order itself (400 or 422): the same
    body can never have been taken. After no answer, a 429 or 5xx it waits with backoff; after a
    refusal of the credentials (401, 403), of the key (409) or any other, the order may already be
    at the supplier from an attempt whose answer was lost, so it stays too, tried again after the
    longest pause (or adopted by the catch-up poll when the supplier lists it). An answer that
    breaks the contract counts as no answer and is kept as evidence, once per intent.
    """
    order_id = tried.id or 0
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        intent = await uow.intents.one(lock=True, stock_order_id=order_id)
        if intent is None:
            return Sending(order, None)
        if isinstance(exc, ContractBroken) and intent.last_error != str(exc):
            common.record(uow, portal, order.supplier_id, "contract", str(exc), exc.endpoint, order_id)
        if portal.retry.transient(exc):
            intent.failed(str(exc), portal.now_ms(), portal.retry.outbox_pause_ms(intent.attempts, portal.rng))
            await uow.commit()
            log.warning("stock order %s stays in the outbox after attempt %d: %s", order.number, intent.attempts, exc)
            return Sending(order, intent, unreachable=isinstance(exc, SupplierUnreachable))
        refused = isinstance(exc, SupplierRejected) and exc.status in REFUSALS
        if refused:
            await uow.intents.remove(intent)
        else:
            intent.failed(str(exc), portal.now_ms(), portal.retry.outbox_longest_ms)
        if isinstance(exc, WrongCredentials | CustomerNumberRefused):
            # No more calls with credentials the supplier refuses (a lockout): the order waits, blocked,
            # until the user couples the customer number again.
            customer = await uow.customers.one(lock=True, supplier_id=order.supplier_id, org_unit_id=order.org_unit_id)
            if customer is not None:
                customer.uncouple(f"the supplier refused it while stock order {order.number} was sent: {exc}")
        await uow.commit()
    detail = exc.problem.get("detail", exc) if isinstance(exc, SupplierRejected) else f"{exc}; check the coupling"
    after = "it is still booked" if refused else "it stays in the outbox and is tried again with the same key"
    raise SupplierProblem(f"the supplier refused stock order {order.number}: {detail}; {after}")


async def _note_failure(portal: Portal, order_id: int, error: str) -> None:
    """An attempt that failed inside the portal: shown on the intent, and not tried again every round."""
    async with portal.uow() as uow:
        intent = await uow.intents.one(lock=True, stock_order_id=order_id)
        if intent is not None:
            intent.failed(error[:2000], portal.now_ms(), portal.retry.outbox_longest_ms)
            await uow.commit()


async def _forget(uow: UnitOfWork, order_id: int) -> None:
    intent = await uow.intents.one(stock_order_id=order_id)
    if intent is not None:
        await uow.intents.remove(intent)


async def stock_order(portal: Portal, order_id: int) -> Sending:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id)
        return Sending(order, await uow.intents.one(stock_order_id=order_id))


async def withdraw(portal: Portal, order_id: int) -> StockOrder:
    """Take an order out of the outbox, say one the supplier keeps refusing: it stays booked, unsent.

    Sending it again later is safe: it goes with the order's own key, so a supplier that holds it
    from an attempt whose answer was lost answers with that order.
    """
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        intent = await uow.intents.one(lock=True, stock_order_id=order_id)
        if intent is None:
            raise NotFound(f"stock order {order.number} is not in the outbox")
        await uow.intents.remove(intent)
        await uow.commit()
        log.info("stock order %s taken out of the outbox after %d attempt(s)", order.number, intent.attempts)
        return order


async def outbox(portal: Portal) -> list[SendIntent]:
    """Every order waiting to be sent, oldest first."""
    async with portal.uow() as uow:
        return await uow.intents.all()


async def deliver_due(portal: Portal, everything: bool = False) -> dict[str, int]:
    """Attempt every intent that is due (or, with ``everything``, every intent); how each one went.

    A supplier that gave no answer is left alone for the rest of the round: during an outage each
    attempt would cost a whole deadline. One order that fails in an unforeseen way stops no other.
    """
    now = portal.now_ms()
    counts = {"sent": 0, "waiting": 0, "refused": 0, "blocked": 0}
    intents = await outbox(portal)
    async with portal.uow() as uow:
        orders = await uow.orders.among("id", [intent.stock_order_id for intent in intents])
    supplier_of = {order.id: order.supplier_id for order in orders}
    down: set[int] = set()
    for intent in intents:
        supplier_id = supplier_of.get(intent.stock_order_id)
        if supplier_id in down or (not everything and intent.next_attempt_ms > now):
            counts["waiting"] += 1
            continue
        try:
            sent = await deliver(portal, intent.stock_order_id)
        except SupplierProblem as exc:
            log.warning("%s", exc)
            kept = (await stock_order(portal, intent.stock_order_id)).intent is not None
            counts["blocked" if kept else "refused"] += 1
            continue
        except DomainError as exc:  # e.g. the customer number was uncoupled: it waits for the user
            log.warning("stock order %s cannot be sent now: %s", intent.stock_order_id, exc)
            counts["blocked"] += 1
            continue
        except Exception as exc:
            log.exception("delivering stock order %s failed; tried again after a pause", intent.stock_order_id)
            await _note_failure(portal, intent.stock_order_id, f"the portal failed: {exc!r}")
            counts["blocked"] += 1
            continue
        if sent.unreachable and supplier_id is not None:
            down.add(supplier_id)
        counts["waiting" if sent.intent else "sent"] += 1
    return counts
