"""The mapping of entities to tables: a class is kept in a table only when its fields are the table's columns."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table

from portal.adapters.mapping import Shape

things = Table("things", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(10)))


@dataclass
class Thing:
    name: str
    id: int | None = None


@dataclass
class Other:
    name: str
    size: int
    id: int | None = None


def test_an_entity_is_built_from_its_row_without_init_and_read_back_in_the_columns_order() -> None:
    shape = Shape.of(Thing, things, 0)
    thing = shape.build((7, "seven"))
    assert thing == Thing("seven", 7) and shape.row_of(thing) == (7, "seven")


def test_a_class_whose_fields_are_not_its_tables_columns_is_refused() -> None:
    with pytest.raises(RuntimeError, match="Other's fields are not the columns of things"):
        Shape.of(Other, things, 0)
