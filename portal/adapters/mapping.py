"""How each domain class is kept in its table: by name, field for column, so the domain never imports SQLAlchemy."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Table

from portal.adapters.tables import (
    carts,
    catalog_entries,
    contract_violations,
    customer_numbers,
    dispatch_notifications,
    metadata,
    org_units,
    products,
    seen_events,
    send_intents,
    stock_levels,
    stock_orders,
    stock_receipts,
    suppliers,
    warehouses,
)
from portal.domain import catalog, model, setup

MAPPED = {
    setup.OrgUnit: org_units,
    setup.Warehouse: warehouses,
    setup.Supplier: suppliers,
    setup.CustomerNumber: customer_numbers,
    catalog.Product: products,
    catalog.CatalogEntry: catalog_entries,
    catalog.Cart: carts,
    model.StockOrder: stock_orders,
    model.DispatchNotification: dispatch_notifications,
    model.StockReceipt: stock_receipts,
    model.StockLevel: stock_levels,
    model.ContractViolation: contract_violations,
    model.SeenEvent: seen_events,
    model.SendIntent: send_intents,
}


@dataclass(frozen=True, slots=True)
class Shape:
    """A domain class and its table: each field is the column of the same name, ``id`` the primary key."""

    cls: type[Any]
    table: Table
    names: tuple[str, ...]  # the table's columns, in its order, id first: a row's values, one per name
    rank: int  # the table's place among the tables a foreign key depends on: inserts go in this order
    values: Any  # an entity's __dict__ -> its values, in the columns' order

    @classmethod
    def of(cls, entity_cls: type[Any], table: Table, rank: int) -> Shape:
        names = tuple(table.c.keys())
        fields = {f.name for f in dataclasses.fields(entity_cls)}
        if fields != set(names) or names[0] != "id":
            raise RuntimeError(f"{entity_cls.__name__}'s fields are not the columns of {table.name}, id first")
        return cls(entity_cls, table, names, rank, itemgetter(*names))

    def row_of(self, entity: object) -> tuple[Any, ...]:
        return self.values(entity.__dict__)  # type: ignore[no-any-return]

    def build(self, row: Any) -> Any:
        """The entity a row holds, made without __init__: its fields are the row's values as they are."""
        entity = object.__new__(self.cls)
        entity.__dict__.update(zip(self.names, row, strict=True))
        return entity


_RANKS = {table: rank for rank, table in enumerate(metadata.sorted_tables)}
SHAPES = {cls: Shape.of(cls, table, _RANKS[table]) for cls, table in MAPPED.items()}

# Each entity an open identity map knows, by id(), with the list that map notes its changed entities in.
# An entry lives only while the map holds the entity, so no other object can have its id meanwhile.
WATCHED: dict[int, list[Any]] = {}


def _noting_setattr(entity: object, name: str, value: Any) -> None:
    """Set the attribute, and tell the identity map that holds the entity, if one does, that it may have changed."""
    object.__setattr__(entity, name, value)
    noted = WATCHED.get(id(entity))
    if noted is not None:
        noted.append(entity)


def watch_changes() -> None:
    """Make every mapped class report its attribute changes: once per process, before any entity is loaded.

    A flush then compares only the entities set since the last one with the rows they were loaded
    as, not every entity the action has read: an action that reads thousands of rows one by one
    stays linear. The domain's values are immutable (tuples, strings, enums, decimals), so every
    change is an assignment.
    """
    for cls in MAPPED:
        if cls.__setattr__ is _noting_setattr:
            continue
        if cls.__setattr__ is not object.__setattr__:
            raise RuntimeError(f"{cls.__name__} sets its attributes itself; its changes cannot be watched")
        setattr(cls, "__setattr__", _noting_setattr)  # noqa: B010 (mypy refuses the assignment)


watch_changes()


def item_key(supplier_id: int, product_number: str) -> str:
    return f"{supplier_id}:{product_number}"


def keys_of(product: catalog.Product) -> list[dict[str, Any]]:
    """The rows a product is matched by: its supplier items and its barcodes."""
    keys = [
        {"product_id": product.id, "kind": "item", "key": item_key(i.supplier_id, i.product_number)}
        for i in product.items
    ]
    return keys + [{"product_id": product.id, "kind": "barcode", "key": code} for code in product.barcodes]
