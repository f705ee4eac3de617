"""The portal's answers: domain objects as JSON, never a credential."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from contracts.wire import format_timestamp
from portal.domain.catalog import Cart
from portal.domain.matching import Match
from portal.domain.model import (
    ContractViolation,
    DispatchNotification,
    SendIntent,
    StockOrder,
    StockReceipt,
)
from portal.domain.setup import CustomerNumber, OrgUnit, Supplier, Warehouse
from portal.service_layer.queries import NamedStockLevel, Page

T = TypeVar("T")


def org_unit(unit: OrgUnit) -> dict[str, Any]:
    return {"id": unit.id, "code": unit.code, "name": unit.name}


def warehouse(house: Warehouse) -> dict[str, Any]:
    return {"id": house.id, "code": house.code, "name": house.name, "orgUnitId": house.org_unit_id}


def supplier(item: Supplier) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "orderInterface": item.order_interface.value,
        "baseUrl": item.base_url,
        "taxSector": item.tax_sector,
    }


def customer_number(customer: CustomerNumber) -> dict[str, Any]:
    """The customer number and its coupling, never its credentials."""
    return {
        "id": customer.id,
        "supplierId": customer.supplier_id,
        "orgUnitId": customer.org_unit_id,
        "number": customer.number,
        "authMethod": customer.auth_method.value,
        "state": customer.state.value,
        "lastError": customer.last_error,
        "webhook": customer.webhook_secret is not None,
    }


def match(found: Match) -> dict[str, Any]:
    entry = found.entry
    return {
        "productNumber": entry.product_number,
        "name": entry.name,
        "barcodes": list(entry.barcodes),
        "containerAmount": entry.container_amount,
        "purchasePrice": {"amount": str(entry.purchase_price), "currency": entry.currency},
        "active": entry.active,
        "match": None
        if found.product is None
        else {"productId": found.product.id, "number": found.product.number, "by": found.matched_by},
        "differences": list(found.differences),
    }


def cart(item: Cart) -> dict[str, Any]:
    return {
        "supplierId": item.supplier_id,
        "warehouseId": item.warehouse_id,
        "lines": [{"productNumber": line.product_number, "containers": line.containers} for line in item.lines],
    }


def stock_order(order: StockOrder, intent: SendIntent | None = None) -> dict[str, Any]:
    """The order; ``outbox`` says how its sending goes while it waits in the outbox, and is null otherwise."""
    return {
        "id": order.id,
        "number": order.number,
        "supplierId": order.supplier_id,
        "orgUnitId": order.org_unit_id,
        "warehouseId": order.warehouse_id,
        "state": order.state.value,
        "note": order.note,
        "requestedDeliveryDate": order.requested_delivery_date,
        "lines": [
            {
                "lineNumber": line.line_number,
                "productId": line.product_id,
                "supplierProductNumber": line.supplier_product_number,
                "containers": line.containers,
                "containerAmount": line.container_amount,
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        "orderportal": {
            "supplierOrderId": order.supplier_order_id,
            "status": order.portal_status,
            "rejectionReason": order.rejection_reason,
            "history": [
                {"status": c.status, "at": c.at, "reasonCode": c.reason_code, "message": c.message}
                for c in order.status_history
            ],
        },
        "outbox": outbox_entry(intent) if intent else None,
    }


def outbox_entry(intent: SendIntent) -> dict[str, Any]:
    return {
        "stockOrderId": intent.stock_order_id,
        "queuedAt": intent.queued_at,
        "attempts": intent.attempts,
        "nextAttemptAt": format_timestamp(intent.next_attempt_ms),
        "lastError": intent.last_error,
    }


def dispatch_notification(note: DispatchNotification) -> dict[str, Any]:
    return {
        "id": note.id,
        "stockOrderId": note.stock_order_id,
        "notificationId": note.notification_id,
        "dispatchedAt": note.dispatched_at,
        "carrier": note.carrier,
        "trackingNumber": note.tracking_number,
        "received": note.received,
        "lines": [
            {"lineNumber": x.line_number, "supplierProductNumber": x.supplier_product_number, "quantity": x.quantity}
            for x in note.lines
        ],
    }


def receipt(item: StockReceipt) -> dict[str, Any]:
    return {
        "id": item.id,
        "stockOrderId": item.stock_order_id,
        "warehouseId": item.warehouse_id,
        "dispatchNotificationId": item.dispatch_notification_id,
        "state": item.state.value,
        "lines": [{"lineNumber": x.line_number, "productId": x.product_id, "quantity": x.quantity} for x in item.lines],
    }


def violation(found: ContractViolation) -> dict[str, Any]:
    return {
        "id": found.id,
        "kind": found.kind,
        "detail": found.detail,
        "evidence": found.evidence,
        "at": found.at,
        "stockOrderId": found.stock_order_id,
    }


def stock_level(level: NamedStockLevel) -> dict[str, Any]:
    return {
        "warehouseId": level.warehouse_id,
        "productId": level.product_id,
        "productNumber": level.product_number,
        "productName": level.product_name,
        "quantity": level.quantity,
    }


def page(found: Page[T], view: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {"page": found.page, "size": found.size, "total": found.total, "items": [view(x) for x in found.items]}
