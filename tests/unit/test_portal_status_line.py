"""The manual's Orderportal line: NEW → PROCESSED → ACCEPTED, or ending at REJECTED, with the current step marked."""

from __future__ import annotations

from portal.domain.statuses import status_line
from portal.service_layer.unit_of_work import NoEvents, announce


def test_an_unsent_order_has_no_line() -> None:
    assert status_line(None) == ()


def test_a_processed_order_has_done_current_and_todo_steps() -> None:
    assert status_line("PROCESSED", ["NEW", "PROCESSED"]) == (
        ("NEW", "done"),
        ("PROCESSED", "current"),
        ("ACCEPTED", "todo"),
    )


def test_a_rejected_order_ends_at_rejected_after_the_steps_it_reached() -> None:
    assert status_line("REJECTED", ["NEW", "REJECTED"]) == (("NEW", "done"), ("REJECTED", "current"))
    assert status_line("REJECTED", ["NEW", "PROCESSED", "REJECTED"]) == (
        ("NEW", "done"),
        ("PROCESSED", "done"),
        ("REJECTED", "current"),
    )


def test_a_status_the_manual_does_not_name_is_shown_alone() -> None:
    assert status_line("ON_HOLD", ["NEW"]) == (("ON_HOLD", "current"),)


def test_only_the_dashboard_topics_are_announced() -> None:
    from portal.domain.model import SendIntent, StockLevel

    published: list[tuple[str, object]] = []

    class Recorder(NoEvents):
        def publish(self, kind: str, item: object) -> None:
            published.append((kind, item))

    intent, level = SendIntent(1, "key", "2026-01-01T00:00:00.000Z"), StockLevel(1, 2)
    announce(Recorder(), [level, intent], [intent])
    assert published == [("outbox", intent), ("outbox.removed", intent)]
