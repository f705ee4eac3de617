"""How value objects are kept in a column: read back equal, money exact to the last digit."""

from decimal import Decimal

from portal.adapters.column_types import ValueTuple
from portal.domain.catalog import SupplierItem
from portal.domain.model import StatusChange


def test_value_objects_read_back_equal_with_money_exact() -> None:
    column = ValueTuple(SupplierItem)
    kept = (SupplierItem(1, "SP01", 6, Decimal("27.370")), SupplierItem(2, "Ünïcode", 1, Decimal("0.10")))
    text = column.process_bind_param(kept, None)  # type: ignore[arg-type]
    assert '"27.370"' in text  # as text, never through a float
    assert column.process_result_value(text, None) == kept  # type: ignore[arg-type]


def test_optional_fields_and_plain_strings_read_back_equal() -> None:
    history = (StatusChange("NEW", "2026-01-01T00:00:00.000Z"), StatusChange("REJECTED", "x", "OTHER", "no"))
    column = ValueTuple(StatusChange)
    assert column.process_result_value(column.process_bind_param(history, None), None) == history  # type: ignore[arg-type]
    codes = ValueTuple()
    assert codes.process_result_value(codes.process_bind_param(("4080213578738", "1"), None), None) == (  # type: ignore[arg-type]
        "4080213578738",
        "1",
    )
