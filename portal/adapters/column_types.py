"""How domain values are kept in a column: exact money, tuples of value objects, and enums by value."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Enum, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """Money as exact decimal text: the same on SQLite (which has no decimal type) and PostgreSQL."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def bind_all(self, values: Iterable[Decimal]) -> Iterable[str]:
        """What process_bind_param makes of each value, none of them None, in one pass without a Python call."""
        return map(str, values)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class ValueTuple(TypeDecorator[tuple[Any, ...]]):
    """A tuple of frozen value objects (or of strings) kept as JSON."""

    impl = Text
    cache_ok = True

    def __init__(self, cls: type | None = None) -> None:
        super().__init__()
        self.cls = cls
        self._decimals = {f.name for f in dataclasses.fields(cls) if f.type == "Decimal"} if cls else set()

    def process_bind_param(self, value: tuple[Any, ...] | None, dialect: Dialect) -> str | None:
        return None if value is None else _json(value).decode()

    def bind_all(self, values: Iterable[tuple[Any, ...]]) -> Iterable[str]:
        """What process_bind_param makes of each value, none of them None, in one pass without a Python call."""
        return map(bytes.decode, map(_json, values))

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[Any, ...] | None:
        if value is None:
            return None
        items = orjson.loads(value)
        if self.cls is None:
            return tuple(items)
        return tuple(self.cls(**{k: Decimal(v) if k in self._decimals else v for k, v in i.items()}) for i in items)


# orjson writes the value objects' fields itself, and a Decimal through str: exact, as text.
_json = partial(orjson.dumps, default=str)


def enum_of(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
