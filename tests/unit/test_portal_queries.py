"""The read side on fakes: lists filter and page, one order comes with what followed it, stock has names."""

from __future__ import annotations

import pytest

from portal.domain.errors import NotFound
from portal.domain.model import StockOrderState
from portal.domain.setup import Coupling
from portal.service_layer import queries, receiving
from tests.fakes import fake_portal
from tests.unit.test_services_rules import accepted_with_a_dispatch, booked, shop


async def test_stock_orders_filter_by_state_and_supplier_and_come_a_page_at_a_time() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    first = await booked(portal, ids)
    second = await booked(portal, ids)
    everything = await queries.stock_orders(portal)
    assert [o.id for o in everything.items] == [first, second] and everything.total == 2
    page = await queries.stock_orders(portal, page=2, size=1)
    assert [o.id for o in page.items] == [second] and (page.total, page.page, page.size) == (2, 2, 1)
    assert (await queries.stock_orders(portal, state=StockOrderState.SENT)).total == 0
    assert (await queries.stock_orders(portal, state=StockOrderState.BOOKED, supplier_id=ids["supplier"])).total == 2
    assert (await queries.stock_orders(portal, supplier_id=ids["supplier"] + 1)).items == []
    assert (await queries.stock_order_counts(portal))["BOOKED"] == 2


async def test_one_order_comes_with_its_dispatches_receipts_and_outbox_entry() -> None:
    portal, order_id, note_id = await accepted_with_a_dispatch()
    receipt = await receiving.receipt_from_notification(portal, note_id, None)
    detail = await queries.stock_order(portal, order_id)
    assert detail.order.id == order_id and detail.intent is None
    assert [n.id for n in detail.notifications] == [note_id]
    assert [r.id for r in detail.receipts] == [receipt.id]
    assert (await queries.dispatch_notifications(portal, stock_order_id=order_id)).total == 1
    assert (await queries.stock_receipt(portal, receipt.id or 0)).stock_order_id == order_id
    with pytest.raises(NotFound):
        await queries.stock_order(portal, order_id + 100)


async def test_stock_levels_carry_the_product_number_and_name() -> None:
    portal, _, note_id = await accepted_with_a_dispatch()
    receipt = await receiving.receipt_from_notification(portal, note_id, None)
    await receiving.book_receipt(portal, receipt.id or 0)
    (level,) = await queries.stock_levels(portal)
    assert (level.product_number, level.product_name, level.quantity) == ("R-P1", "P1", 12)
    assert await queries.stock_levels(portal, level.warehouse_id) == [level]
    with pytest.raises(NotFound):
        await queries.stock_levels(portal, level.warehouse_id + 100)


async def test_the_setup_lists_name_what_was_set_up() -> None:
    portal, _, _ = fake_portal()
    ids = await shop(portal)
    assert [u.code for u in await queries.org_units(portal)] == ["S1"]
    assert [w.id for w in await queries.warehouses(portal)] == [ids["warehouse"]]
    assert [s.name for s in await queries.suppliers(portal)] == ["Sim"]
    assert len(await queries.customer_numbers(portal, state=Coupling.COUPLED)) == 1
    assert await queries.customer_numbers(portal, state=Coupling.UNCOUPLED) == []
    assert await queries.carts(portal) == []
