"""How value objects are kept in a column: read back equal, money exact to the last digit."""

from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Column
from sqlalchemy.dialects import postgresql, sqlite

from portal.adapters import catalog_store
from portal.adapters.column_types import DecimalText, ValueTuple
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


def test_a_whole_column_binds_as_each_value_does() -> None:
    """The import binds a column at a time: the text must be what the value-by-value path writes."""
    items = [(SupplierItem(1, "SP01", 6, Decimal("27.370")),), (), (SupplierItem(2, "Ünïcode", 1, Decimal("0.10")),)]
    codes = [("4080213578738", "1"), (), ("ü",)]
    prices = [Decimal("27.370"), Decimal("0.10"), Decimal("1E+2")]
    for column, values in ((ValueTuple(SupplierItem), items), (ValueTuple(), codes), (DecimalText(), prices)):
        one_by_one = [column.process_bind_param(v, None) for v in values]  # type: ignore[arg-type]
        assert list(column.bind_all(values)) == one_by_one  # type: ignore[arg-type]


def test_a_column_that_may_be_null_is_not_bound_in_bulk() -> None:
    nullable: Column[Decimal] = Column("price", DecimalText(), nullable=True)
    with pytest.raises(RuntimeError, match="price may be NULL, and the bulk binding has no case for None"):
        catalog_store._binder(nullable, sqlite.dialect())


def test_a_flag_is_bound_as_sqlite_keeps_it_and_as_is_where_the_database_has_booleans() -> None:
    flag: Column[bool] = Column("active", Boolean(), nullable=False)
    bind = catalog_store._binder(flag, sqlite.dialect())
    assert bind is not None
    bound = list(bind([True, False]))
    assert bound == [1, 0] and {type(v) for v in bound} == {int}  # a bool costs sqlite3 an adapter lookup
    assert catalog_store._binder(flag, postgresql.asyncpg.dialect()) is None
