"""The portal's domain on its own: plain Python rules, no framework."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.domain.catalog import Cart, CatalogEntry, Product, SupplierItem
from portal.domain.errors import IllegalState, InvalidInput, NotFound
from portal.domain.matching import match_all
from portal.domain.model import StatusChange, StockOrder, StockOrderState
from portal.domain.tracking import judge, judge_event
from tests.unit.test_boundaries import imported_packages


def test_the_domain_imports_no_framework() -> None:
    assert not imported_packages("portal/domain") & {"sqlalchemy", "aiohttp", "jsonschema", "jsonschema_rs", "orjson"}
    # What it takes from contracts is plain Python, and the package does not load its validators on import.
    assert imported_packages("contracts/statuses.py") <= {"__future__", "collections"}
    assert imported_packages("contracts/__init__.py") <= {"__future__", "typing", "contracts"}


def order(status: str | None = None, history: tuple[str, ...] = ()) -> StockOrder:
    made = StockOrder("SO-1", 1, 1, 1, state=StockOrderState.SENT if status else StockOrderState.UNBOOKED)
    made.portal_status = status
    made.status_history = tuple(StatusChange(s, "2026-01-05T08:00:00.000Z") for s in history)
    return made


def changes(*statuses: str) -> tuple[StatusChange, ...]:
    return tuple(StatusChange(s, "2026-01-05T08:00:00.000Z", "OTHER" if s == "REJECTED" else None) for s in statuses)


def test_containers_add_up_on_a_product_already_on_the_order_and_units_are_containers_times_amount() -> None:
    made = order()
    made.add(7, "SP1", 2, 6)
    made.add(8, "SP2", 1, 12)
    made.add(7, "SP1", 3, 6)
    assert [(line.product_id, line.containers, line.quantity) for line in made.lines] == [(7, 5, 30), (8, 1, 12)]


def test_a_booked_order_takes_no_edit_and_an_empty_one_cannot_be_booked() -> None:
    empty = order()
    with pytest.raises(IllegalState, match="no lines"):
        empty.book()
    made = order()
    made.add(7, "SP1", 1, 6)
    made.book()
    for edit in (lambda: made.add(8, "SP2", 1, 1), lambda: made.set_containers(1, 2), lambda: made.remove(1)):
        with pytest.raises(IllegalState, match="only an unbooked order can be edited"):
            edit()
    assert made.lines[0].containers == 1


def test_zero_containers_or_a_missing_line_are_refused() -> None:
    made = order()
    made.add(7, "SP1", 1, 6)
    with pytest.raises(InvalidInput):
        made.set_containers(1, 0)
    with pytest.raises(NotFound):
        made.set_containers(9, 1)


def test_a_refused_number_of_containers_or_line_is_named_by_its_rule_never_quoted() -> None:
    made = order()
    made.add(7, "SP1", 1, 6)
    cart = Cart(1, 1)
    refusals = [
        lambda: made.set_containers(1, 98765432),
        lambda: made.set_containers(98765, 1),
        lambda: cart.put("SP1", -98765),
        lambda: cart.take_out("SP-98765"),
    ]
    for refuse in refusals:
        with pytest.raises((InvalidInput, NotFound)) as refused:
            refuse()
        assert "98765" not in str(refused.value)


@pytest.mark.parametrize(
    ("known", "observed", "history", "action"),
    [
        (("NEW",), "PROCESSED", ("NEW", "PROCESSED"), "apply"),
        (("NEW",), "ACCEPTED", ("NEW", "PROCESSED", "ACCEPTED"), "apply"),  # polling may skip PROCESSED
        (("NEW", "PROCESSED", "ACCEPTED"), "PROCESSED", ("NEW", "PROCESSED"), "violation"),  # backwards
        (("NEW",), "ACCEPTED", ("NEW", "ACCEPTED"), "violation"),  # the supplier's own history is illegal
        (("NEW", "PROCESSED"), "PROCESSED", ("NEW", "PROCESSED"), "ignore"),
        (("NEW", "REJECTED"), "ACCEPTED", ("NEW", "PROCESSED", "ACCEPTED"), "violation"),  # a final status changed
    ],
)
def test_a_polled_status_only_moves_forward(
    known: tuple[str, ...], observed: str, history: tuple[str, ...], action: str
) -> None:
    assert judge(order(known[-1], known), observed, changes(*history)).action == action


def test_a_polled_answer_from_before_the_last_known_change_is_old_news_and_a_later_one_that_shows_less_is_not() -> None:
    known = order("PROCESSED")
    known.status_history = (
        StatusChange("NEW", "2026-01-05T08:00:00Z"),
        StatusChange("PROCESSED", "2026-01-05T08:05:00Z"),
    )
    known.status_updated_at = "2026-01-05T08:05:00Z"
    stale = (StatusChange("NEW", "2026-01-05T08:00:00Z"),)
    assert judge(known, "NEW", stale, "2026-01-05T08:00:00.000Z").action == "ignore"
    assert judge(known, "NEW", stale, "2026-01-05T08:09:00.000Z").action == "violation"
    assert judge(known, "NEW", stale, None).action == "violation"  # no stamp: nothing shows it is old
    other = (StatusChange("NEW", "2026-01-05T07:00:00Z"),)  # not a part of the history we hold
    assert judge(known, "NEW", other, "2026-01-05T07:00:00Z").action == "violation"


@pytest.mark.parametrize(
    ("current", "previous", "status", "action"),
    [
        ("NEW", "NEW", "PROCESSED", "apply"),
        ("NEW", "PROCESSED", "ACCEPTED", "apply"),  # PROCESSED's event may come late, or never
        ("ACCEPTED", "NEW", "PROCESSED", "ignore"),  # late: old news
        ("ACCEPTED", "ACCEPTED", "ACCEPTED", "violation"),  # not a legal move at all
        ("REJECTED", "PROCESSED", "ACCEPTED", "violation"),  # contradicts a final status
        ("NEW", "NEW", "ACCEPTED", "violation"),
    ],
)
def test_a_pushed_event_is_applied_ignored_or_kept_as_evidence(
    current: str, previous: str, status: str, action: str
) -> None:
    assert judge_event(order(current), previous, status).action == action


def entry(
    number: str,
    barcodes: tuple[str, ...],
    name: str = "Water",
    price: str = "1.00",
    amount: int = 6,
    active: bool = True,
) -> CatalogEntry:
    return CatalogEntry(
        1, number, name, barcodes, amount, Decimal(price), "EUR", "7.00", active, "2026-01-05T08:00:00.000Z"
    )


def test_matching_prefers_the_supplier_item_then_any_barcode_and_names_each_difference() -> None:
    by_item = Product("P1", "Water", ("111",), items=(SupplierItem(1, "SP1", 6, Decimal("1.00")),))
    by_code = Product("P2", "Cola", ("222", "333"))
    found = match_all(
        [
            entry("SP1", ("999",), name="Water 1 l", price="1.20"),
            entry("SP2", ("333",), amount=12),
            entry("SP3", ("444",), active=False),
        ],
        [by_item, by_code],
    )
    assert [(m.product.number if m.product else None, m.matched_by) for m in found] == [
        ("P1", "supplier item"),
        ("P2", "barcode"),
        (None, None),
    ]
    assert found[0].differences == ("name", "barcodes", "price")
    assert found[1].differences == ("name", "price", "container amount")
    assert found[2].differences == ("withdrawn",)


def test_the_portals_statement_of_the_legal_moves_agrees_with_the_contracts() -> None:
    from contracts import statuses as contract
    from portal.domain import statuses as portal

    assert {str(s): {str(t) for t in moves} for s, moves in portal.LEGAL_MOVES.items()} == {
        s: set(moves) for s, moves in contract.LEGAL_MOVES.items()
    }
    histories = [
        ["NEW"],
        ["NEW", "PROCESSED", "ACCEPTED"],
        ["NEW", "ACCEPTED"],
        ["PROCESSED"],
        ["NEW", "REJECTED", "NEW"],
    ]
    assert [portal.illegal_step(h) for h in histories] == [contract.illegal_step(h) for h in histories]
