"""The SQLAlchemy mapping of the domain's classes: imperative, so the domain never imports SQLAlchemy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, registry

from portal.adapters.orm import (
    carts,
    catalog_entries,
    contract_violations,
    customer_numbers,
    dispatch_notifications,
    metadata,
    org_units,
    product_keys,
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

mapper_registry = registry(metadata=metadata)

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


def start_mappers() -> None:
    """Map every domain class once per process."""
    if mapper_registry.mappers:
        return
    for cls, table in MAPPED.items():
        mapper_registry.map_imperatively(cls, table)


def item_key(supplier_id: int, product_number: str) -> str:
    return f"{supplier_id}:{product_number}"


def _keys_of(product: catalog.Product) -> list[dict[str, Any]]:
    keys = [
        {"product_id": product.id, "kind": "item", "key": item_key(i.supplier_id, i.product_number)}
        for i in product.items
    ]
    return keys + [{"product_id": product.id, "kind": "barcode", "key": code} for code in product.barcodes]


@event.listens_for(Session, "after_flush")
def _index_products(session: Session, _context: object) -> None:
    changed = [o for o in (*session.new, *session.dirty) if isinstance(o, catalog.Product)]
    if not changed:
        return
    connection = session.connection()
    connection.execute(product_keys.delete().where(product_keys.c.product_id.in_([p.id for p in changed])))
    rows = [key for product in changed for key in _keys_of(product)]
    if rows:
        connection.execute(product_keys.insert(), rows)
