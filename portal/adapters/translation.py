"""Supplier API v1 at the edge: its camelCase JSON in, domain values out, and the order request back out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from portal.domain.messages import (
    CatalogProduct,
    DispatchEvent,
    DispatchNote,
    OrderRequest,
    RequestLine,
    StatusEvent,
    SupplierOrder,
    WebhookEvent,
)
from portal.domain.model import DispatchLine, StatusChange

_new_tuple = tuple.__new__


def status_change(raw: dict[str, Any]) -> StatusChange:
    return StatusChange(raw["status"], raw["at"], raw.get("reasonCode"), raw.get("message"))


def order_request(raw: dict[str, Any]) -> OrderRequest:
    """The fields of an order that the portal sends, as the supplier holds them."""
    warehouse = raw.get("warehouse") or {}
    lines = tuple(
        RequestLine(
            x.get("lineNumber"),
            x.get("productNumber"),
            x.get("containers"),
            x.get("containerAmount"),
            x.get("quantity"),
        )
        for x in raw.get("lines", [])
    )
    return OrderRequest(
        raw.get("orderNumber"),  # type: ignore[arg-type]  # a listed order always has these: its schema says so
        raw.get("orgUnit"),  # type: ignore[arg-type]
        warehouse.get("id"),  # type: ignore[arg-type]
        warehouse.get("name"),  # type: ignore[arg-type]
        lines,
        raw.get("requestedDeliveryDate"),
        raw.get("note"),
    )


def supplier_order(raw: dict[str, Any]) -> SupplierOrder:
    history = tuple(status_change(h) for h in raw["statusHistory"])
    return SupplierOrder(
        raw["orderId"],
        raw["status"],
        raw["updatedAt"],
        history,
        order_request(raw),
        json.dumps(raw),
        raw.get("idempotencyKey"),
    )


def order_body(request: OrderRequest) -> dict[str, Any]:
    """The order as Supplier API v1 takes it."""
    body: dict[str, Any] = {
        "orderNumber": request.order_number,
        "orgUnit": request.org_unit,
        "warehouse": {"id": request.warehouse_code, "name": request.warehouse_name},
        "lines": [
            {
                "lineNumber": line.line_number,
                "productNumber": line.product_number,
                "containers": line.containers,
                "containerAmount": line.container_amount,
                "quantity": line.quantity,
            }
            for line in request.lines
        ],
    }
    if request.requested_delivery_date:
        body["requestedDeliveryDate"] = request.requested_delivery_date
    if request.note:
        body["note"] = request.note
    return body


def catalog_products(page: list[dict[str, Any]]) -> list[CatalogProduct]:
    """A page of the supplier's list, in one pass: an import translates 100,000 products.

    Each is made as ``CatalogProduct._make`` makes it, by ``tuple.__new__``, without a call of the
    named tuple's own ``__new__`` per product: it took a third of the translation.
    """
    return [
        _new_tuple(
            CatalogProduct,
            (
                raw["productNumber"],
                raw["name"],
                tuple(raw["barcodes"]),
                raw["containerAmount"],
                Decimal((price := raw["purchasePrice"])["amount"]),
                price["currency"],
                raw["taxRate"],
                raw["active"],
                raw["updatedAt"],
            ),
        )
        for raw in page
    ]


def dispatch_note(raw: dict[str, Any]) -> DispatchNote:
    lines = tuple(DispatchLine(x["lineNumber"], x["productNumber"], x["quantity"]) for x in raw["lines"])
    return DispatchNote(
        raw["dispatchNotificationId"],
        raw["orderId"],
        raw["dispatchedAt"],
        lines,
        raw.get("carrier"),
        raw.get("trackingNumber"),
        raw.get("expectedDeliveryDate"),
        json.dumps(raw),
    )


def webhook_event(raw: dict[str, Any]) -> WebhookEvent:
    """An event that meets the webhook-event schema, as the domain's event."""
    data = raw["data"]
    if raw["type"] == "dispatch_notification.created":
        return DispatchEvent(raw["eventId"], dispatch_note(data), json.dumps(raw))
    change = status_change(data)
    return StatusEvent(raw["eventId"], data["orderId"], data["previousStatus"], change, json.dumps(raw))
