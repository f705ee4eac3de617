"""The core rules through the services, on fakes: no database, no network."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.domain.catalog import CatalogEntry, Product, SupplierItem
from portal.domain.errors import IllegalState, InvalidInput, NotSendable, SupplierProblem
from portal.domain.messages import DispatchEvent, DispatchNote, StatusEvent, SupplierOrder
from portal.domain.model import MAX_STOCK, DispatchLine, StatusChange, StockOrderState
from portal.domain.setup import (
    AuthMethod,
    Coupling,
    Credentials,
    CustomerNumber,
    OrderInterface,
    OrgUnit,
    Supplier,
    Warehouse,
)
from portal.service_layer import ordering, receiving, sending, setup, tracking
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import (
    ContractBroken,
    CustomerNumberRefused,
    SupplierError,
    SupplierRejected,
    SupplierUnreachable,
    WrongCredentials,
)
from tests.fakes import FakeSupplier, fake_portal

AT = "2026-01-05T08:00:00.000Z"


async def shop(portal: Portal, coupled: bool = True) -> dict[str, int]:
    """An org unit, a warehouse, an ORDERPORTAL supplier, a customer number and two products in its list."""
    async with portal.uow() as uow:
        uow.org_units.add(unit := OrgUnit("S1", "Store"))
        uow.suppliers.add(supplier := Supplier("Sim", OrderInterface.ORDERPORTAL, "http://sim:1"))
        await uow.flush()
        uow.warehouses.add(house := Warehouse("W1", "Main", unit.id or 0))
        state = Coupling.COUPLED if coupled else Coupling.UNCOUPLED
        sid, uid = supplier.id or 0, unit.id or 0
        uow.customers.add(CustomerNumber(sid, uid, "10001", AuthMethod.BASIC, "u", "p", state=state))
        for n in ("P1", "P2"):
            uow.catalog.add(CatalogEntry(sid, n, n, (), 6, Decimal("1.00"), "EUR", "21", True, AT))
            uow.products.add(Product(f"R-{n}", n, (), "standard", (SupplierItem(sid, n, 6, Decimal("1.00")),)))
        await uow.commit()
    return {"supplier": sid, "warehouse": house.id or 0}


async def booked(portal: Portal, ids: dict[str, int], containers: int = 2) -> int:
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P1", containers)
    order = await ordering.create_stock_orders(portal, ids["supplier"], ids["warehouse"])
    return (await ordering.book_stock_order(portal, order.id or 0)).id or 0


def taken_answer() -> SupplierOrder:
    """The supplier's answer to a new order: it holds it as ORD-1, in NEW."""
    history = (StatusChange("NEW", AT),)
    return SupplierOrder("ORD-1", "NEW", AT, history, None)  # type: ignore[arg-type]


async def test_a_cart_merges_into_the_unbooked_order_of_its_supplier_and_warehouse() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P1", 2)
    first = await ordering.create_stock_orders(portal, ids["supplier"], ids["warehouse"])
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P1", 3)
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P2", 1)
    second = await ordering.create_stock_orders(portal, ids["supplier"], ids["warehouse"])
    assert second.id == first.id
    assert [(line.supplier_product_number, line.containers) for line in second.lines] == [("P1", 5), ("P2", 1)]
    assert (await ordering.get_cart(portal, ids["supplier"], ids["warehouse"])).lines == ()


async def test_a_booked_order_gets_no_more_lines_a_new_cart_makes_a_new_order() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    first = await booked(portal, ids)
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P2", 1)
    second = await ordering.create_stock_orders(portal, ids["supplier"], ids["warehouse"])
    assert second.id != first and second.state is StockOrderState.UNBOOKED


async def test_booking_gives_the_idempotency_key_once() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    order_id = await booked(portal, ids)
    async with portal.uow() as uow:
        key = (await uow.orders.get(order_id)).idempotency_key
    assert key
    with pytest.raises(IllegalState):
        await ordering.book_stock_order(portal, order_id)


async def test_an_empty_order_cannot_be_booked() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    await ordering.put_in_cart(portal, ids["supplier"], ids["warehouse"], "P1", 1)
    order = await ordering.create_stock_orders(portal, ids["supplier"], ids["warehouse"])
    await ordering.remove_line(portal, order.id or 0, 1)
    with pytest.raises(IllegalState, match="no lines"):
        await ordering.book_stock_order(portal, order.id or 0)


async def test_a_send_the_supplier_takes_marks_the_order_sent_and_empties_the_outbox() -> None:
    portal, _, supplier = fake_portal(FakeSupplier(created=[taken_answer()]))
    order_id = await booked(portal, await shop(portal))
    sent = await sending.send_stock_order(portal, order_id)
    assert sent.order.state is StockOrderState.SENT and sent.intent is None
    assert sent.order.supplier_order_id == "ORD-1" and await sending.outbox(portal) == []
    ((request, key),) = supplier.requests
    assert request.order_number == sent.order.number and key == sent.order.idempotency_key


@pytest.mark.parametrize(
    "failure",
    [
        SupplierUnreachable("POST /orders", "no answer"),
        SupplierRejected("POST /orders", {"title": "t", "detail": "d"}, 503),
    ],
    ids=["no-answer", "503"],
)
async def test_a_send_without_a_usable_answer_waits_in_the_outbox_with_backoff(failure: Exception) -> None:
    portal, _, _ = fake_portal(FakeSupplier(created=[failure]))  # type: ignore[list-item]
    order_id = await booked(portal, await shop(portal))
    sent = await sending.send_stock_order(portal, order_id)
    assert sent.order.state is StockOrderState.BOOKED and sent.intent is not None
    assert sent.intent.attempts == 1 and 500 <= sent.intent.next_attempt_ms - portal.now_ms() <= 1000


@pytest.mark.parametrize("status", [400, 422])
async def test_a_refused_order_is_dropped_from_the_outbox_and_stays_booked(status: int) -> None:
    refusal = SupplierRejected("POST /orders", {"title": "bad", "detail": "no"}, status)
    portal, _, _ = fake_portal(FakeSupplier(created=[refusal]))
    order_id = await booked(portal, await shop(portal))
    with pytest.raises(SupplierProblem, match="still booked"):
        await sending.send_stock_order(portal, order_id)
    after = await sending.stock_order(portal, order_id)
    assert after.order.state is StockOrderState.BOOKED and after.intent is None


@pytest.mark.parametrize("status", [401, 403, 409])
async def test_a_refusal_of_credentials_or_key_keeps_the_order_and_401_403_uncouple(status: int) -> None:
    failure = {
        401: WrongCredentials("POST /orders", "no", 401),
        403: CustomerNumberRefused("POST /orders", "no", 403),
        409: SupplierRejected("POST /orders", {"title": "c", "detail": "d"}, 409),
    }[status]
    portal, _, _ = fake_portal(FakeSupplier(created=[failure]))
    order_id = await booked(portal, await shop(portal))
    with pytest.raises(SupplierProblem, match="stays in the outbox"):
        await sending.send_stock_order(portal, order_id)
    assert (await sending.stock_order(portal, order_id)).intent is not None
    async with portal.uow() as uow:
        (customer,) = await uow.customers.all()
    assert customer.state is (Coupling.COUPLED if status == 409 else Coupling.UNCOUPLED)


async def test_a_contract_breaking_answer_is_kept_as_evidence_once() -> None:
    broken = ContractBroken("POST /orders", [], 201)
    portal, _, _ = fake_portal(FakeSupplier(created=[broken, broken]))
    ids = await shop(portal)
    order_id = await booked(portal, ids)
    await sending.send_stock_order(portal, order_id)
    await sending.deliver(portal, order_id)
    assert [v.kind for v in await tracking.violations(portal, ids["supplier"])] == ["contract"]


async def test_a_send_refuses_at_once_when_the_customer_number_is_uncoupled() -> None:
    portal, _, supplier = fake_portal()
    order_id = await booked(portal, await shop(portal, coupled=False))
    with pytest.raises(NotSendable):
        await sending.send_stock_order(portal, order_id)
    assert await sending.outbox(portal) == [] and supplier.requests == []


async def sent(portal: Portal) -> int:
    ids = await shop(portal)
    order_id = await booked(portal, ids)
    await sending.send_stock_order(portal, order_id)
    return order_id


def event(previous: str, status: str, event_id: str = "e1") -> StatusEvent:
    return StatusEvent(event_id, "ORD-1", previous, StatusChange(status, AT))


async def test_a_forward_move_is_applied_and_a_late_one_ignored() -> None:
    portal, _, _ = fake_portal(FakeSupplier(created=[taken_answer()]))
    order_id = await sent(portal)
    assert (await tracking.receive_event(portal, 1, event("NEW", "PROCESSED"))).result == "applied"
    assert (await tracking.receive_event(portal, 1, event("NEW", "PROCESSED", "e2"))).result == "ignored"
    assert (await sending.stock_order(portal, order_id)).order.portal_status == "PROCESSED"


async def test_an_illegal_move_is_kept_as_a_violation_and_not_applied() -> None:
    portal, _, _ = fake_portal(FakeSupplier(created=[taken_answer()]))
    order_id = await sent(portal)
    assert (await tracking.receive_event(portal, 1, event("NEW", "ACCEPTED"))).result == "violation"
    assert (await sending.stock_order(portal, order_id)).order.portal_status == "NEW"
    assert [v.kind for v in await tracking.violations(portal, 1)] == ["illegal-status"]


LATER = "2026-01-05T08:05:00.000Z"


@pytest.mark.parametrize("poll", ["one", "all"])
async def test_a_poll_answer_overtaken_by_a_webhook_is_old_news_not_a_violation(poll: str) -> None:
    """The supplier answers NEW; a webhook moves the order to PROCESSED; then the poll's answer is applied."""
    supplier = FakeSupplier(created=[taken_answer()])
    portal, _, _ = fake_portal(supplier)
    order_id = await sent(portal)
    supplier.listed.append(taken_answer())
    pushed = StatusEvent("e1", "ORD-1", "NEW", StatusChange("PROCESSED", LATER))
    supplier.between.append(lambda: tracking.receive_event(portal, 1, pushed))
    if poll == "one":
        _, outcome = await tracking.poll_stock_order(portal, order_id)
        assert outcome.result == "unchanged" and "old news" in outcome.detail
    else:
        assert (await tracking.poll_open_orders(portal, 1))["unchanged"] == 1
    assert (await sending.stock_order(portal, order_id)).order.portal_status == "PROCESSED"
    assert await tracking.violations(portal, 1) == []


async def test_an_answer_stamped_after_the_last_change_that_shows_less_is_still_a_violation() -> None:
    supplier = FakeSupplier(created=[taken_answer()])
    portal, _, _ = fake_portal(supplier)
    order_id = await sent(portal)
    await tracking.receive_event(portal, 1, StatusEvent("e1", "ORD-1", "NEW", StatusChange("PROCESSED", LATER)))
    supplier.listed.append(SupplierOrder("ORD-1", "NEW", "2026-01-05T09:00:00.000Z", (StatusChange("NEW", AT),), None))  # type: ignore[arg-type]
    _, outcome = await tracking.poll_stock_order(portal, order_id)
    assert outcome.result == "violation" and "went back from PROCESSED to NEW" in outcome.detail
    assert [v.kind for v in await tracking.violations(portal, 1)] == ["illegal-status"]


async def test_an_event_delivered_twice_is_handled_once() -> None:
    portal, _, _ = fake_portal(FakeSupplier(created=[taken_answer()]))
    await sent(portal)
    await tracking.receive_event(portal, 1, event("NEW", "PROCESSED"))
    assert (await tracking.receive_event(portal, 1, event("NEW", "PROCESSED"))).result == "duplicate"


async def accepted_with_a_dispatch(quantity: int = 12) -> tuple[Portal, int, int]:
    portal, _, _ = fake_portal(FakeSupplier(created=[taken_answer()]))
    order_id = await sent(portal)
    await tracking.receive_event(portal, 1, event("NEW", "PROCESSED"))
    await tracking.receive_event(portal, 1, event("PROCESSED", "ACCEPTED", "e2"))
    note = DispatchNote("D-1", "ORD-1", AT, (DispatchLine(1, "P1", quantity),))
    assert (await tracking.receive_event(portal, 1, DispatchEvent("e3", note))).result == "applied"
    async with portal.uow() as uow:
        (held,) = await uow.notifications.all()
    return portal, order_id, held.id or 0


async def test_a_receipt_takes_no_more_than_was_dispatched() -> None:
    portal, _, note_id = await accepted_with_a_dispatch(quantity=6)
    with pytest.raises(InvalidInput, match="more than"):
        await receiving.receipt_from_notification(portal, note_id, {1: 7})


async def test_a_refused_receipt_names_the_line_and_the_rule_never_the_quantity_asked_for() -> None:
    portal, _, note_id = await accepted_with_a_dispatch(quantity=6)
    with pytest.raises(InvalidInput) as refused:
        await receiving.receipt_from_notification(portal, note_id, {1: 98765})
    assert "line 1" in str(refused.value) and "98765" not in str(refused.value)


async def test_an_empty_receipt_is_refused() -> None:
    portal, _, note_id = await accepted_with_a_dispatch()
    with pytest.raises(InvalidInput, match="empty"):
        await receiving.receipt_from_notification(portal, note_id, {1: 0})


async def test_a_dispatch_notification_is_received_once_and_its_booking_raises_stock() -> None:
    portal, _, note_id = await accepted_with_a_dispatch()
    receipt = await receiving.receipt_from_notification(portal, note_id, None)
    with pytest.raises(IllegalState, match="received already"):
        await receiving.receipt_from_notification(portal, note_id, None)
    await receiving.book_receipt(portal, receipt.id or 0)
    async with portal.uow() as uow:
        assert [level.quantity for level in await uow.stock.all()] == [12]


async def test_a_receipt_that_would_take_a_stock_level_past_its_limit_is_refused_and_changes_nothing() -> None:
    portal, _, note_id = await accepted_with_a_dispatch()
    receipt = await receiving.receipt_from_notification(portal, note_id, None)
    async with portal.uow() as uow:
        (house,) = await uow.warehouses.all()
        (product,) = await uow.products.all(number="R-P1")
        assert await uow.stock.raise_stock(house.id or 0, product.id or 0, MAX_STOCK - 11)
        await uow.commit()
    with pytest.raises(InvalidInput, match="would pass"):
        await receiving.book_receipt(portal, receipt.id or 0)
    async with portal.uow() as uow:
        assert [level.quantity for level in await uow.stock.all()] == [MAX_STOCK - 11]
        assert (await uow.receipts.get(receipt.id or 0)).state.value == "UNBOOKED"


async def test_a_fetch_keeps_each_new_notification_once_and_answers_with_every_one() -> None:
    portal, order_id, _ = await accepted_with_a_dispatch(quantity=4)
    again = DispatchNote("D-2", "ORD-1", AT, (DispatchLine(1, "P1", 4),))
    known = DispatchNote("D-1", "ORD-1", AT, (DispatchLine(1, "P1", 4),))
    supplier = FakeSupplier(notes=[known, again, again])  # D-1 is known, D-2 listed twice
    portal.client_for = lambda _supplier, _customer: supplier  # type: ignore[assignment,return-value]
    stored = await receiving.fetch_dispatch_notifications(portal, order_id)
    assert [n.notification_id for n in stored] == ["D-1", "D-2"]
    async with portal.uow() as uow:
        assert [n.notification_id for n in await uow.notifications.all()] == ["D-1", "D-2"]


async def test_a_dispatch_shipping_more_than_ordered_is_a_violation_not_a_notification() -> None:
    portal, _, _ = fake_portal(FakeSupplier(created=[taken_answer()]))
    await sent(portal)
    await tracking.receive_event(portal, 1, event("NEW", "PROCESSED"))
    await tracking.receive_event(portal, 1, event("PROCESSED", "ACCEPTED", "e2"))
    note = DispatchNote("D-9", "ORD-1", AT, (DispatchLine(1, "P1", 13),))
    assert (await tracking.receive_event(portal, 1, DispatchEvent("e3", note))).result == "violation"


async def test_a_customer_number_uncoupled_after_queueing_is_not_called_when_the_order_is_delivered() -> None:
    unreachable = SupplierUnreachable("POST /orders", "no answer")
    portal, _, supplier = fake_portal(FakeSupplier(created=[unreachable, taken_answer()]))
    order_id = await booked(portal, await shop(portal))
    assert (await sending.send_stock_order(portal, order_id)).intent is not None  # waits in the outbox
    async with portal.uow() as uow:  # the worker got a 401 on another order of this customer number
        (customer,) = await uow.customers.all()
        customer.uncouple("refused on another order")
        await uow.commit()
    with pytest.raises(NotSendable):
        await sending.deliver(portal, order_id)
    assert await sending.deliver_due(portal, everything=True) == {"sent": 0, "waiting": 0, "refused": 0, "blocked": 1}
    assert len(supplier.requests) == 1  # only the first attempt, before the uncoupling
    assert (await sending.stock_order(portal, order_id)).intent is not None


class ChangedWhileChecking(FakeSupplier):
    """A supplier that accepts (or refuses) the credentials it checks, while the user changes them meanwhile."""

    def __init__(self, portal_of: list[Portal], refusal: SupplierError | None = None) -> None:
        super().__init__()
        self.portal_of, self.refusal = portal_of, refusal

    async def check_access(self) -> None:
        new = Credentials(AuthMethod.BASIC, "u", "a-new-password-never-checked")
        await setup.change_credentials(self.portal_of[0], 1, new)
        if self.refusal is not None:
            raise self.refusal


@pytest.mark.parametrize("refusal", [None, WrongCredentials("GET /products", "no", 401)], ids=["accepted", "refused"])
async def test_credentials_changed_while_coupling_stay_uncoupled_and_the_coupling_answers_409(
    refusal: SupplierError | None,
) -> None:
    portal_of: list[Portal] = []
    portal, _, _ = fake_portal(ChangedWhileChecking(portal_of, refusal))
    portal_of.append(portal)
    await shop(portal, coupled=False)
    with pytest.raises(IllegalState, match="credentials changed"):
        await setup.couple_customer_number(portal, 1)
    customer = await setup.get_customer_number(portal, 1)
    assert customer.state is Coupling.UNCOUPLED and customer.password == "a-new-password-never-checked"
    assert customer.last_error == "the credentials changed: couple again" and customer.webhook_secret is None


async def test_a_product_list_that_is_not_found_says_what_the_root_url_looks_like() -> None:
    portal, _, supplier = fake_portal()
    ids = await shop(portal)

    async def missing(updated_since: str | None = None) -> list:
        raise SupplierRejected("GET /products", {"title": "Not Found", "detail": "no such path"}, 404)

    supplier.products = missing  # type: ignore[method-assign]
    with pytest.raises(SupplierProblem, match="server root, such as http://host:port"):
        await ordering.open_orderportal(portal, ids["supplier"], ids["warehouse"])
