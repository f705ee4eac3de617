"""What the portal and a supplier tell each other, as domain values: no wire format, no JSON keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from portal.domain.model import DispatchLine, StatusChange, StockOrder
from portal.domain.setup import OrgUnit, Warehouse


@dataclass(frozen=True, slots=True)
class RequestLine:
    line_number: int
    product_number: str
    containers: int
    container_amount: int
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A stock order as the supplier takes it: the same request on every attempt."""

    order_number: str
    org_unit: str
    warehouse_code: str
    warehouse_name: str
    lines: tuple[RequestLine, ...]
    requested_delivery_date: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, order: StockOrder, unit: OrgUnit, warehouse: Warehouse) -> OrderRequest:
        lines = tuple(
            RequestLine(x.line_number, x.supplier_product_number, x.containers, x.container_amount, x.quantity)
            for x in order.lines
        )
        return cls(
            order.number,
            unit.code,
            warehouse.code,
            warehouse.name,
            lines,
            order.requested_delivery_date or None,
            order.note or None,
        )

    def carried_by(self, held: OrderRequest) -> bool:
        """Whether an order the supplier holds carries every field of this request, with the same values."""
        optional = [(self.requested_delivery_date, held.requested_delivery_date), (self.note, held.note)]
        same = (self.order_number, self.org_unit, self.warehouse_code, self.warehouse_name, self.lines) == (
            held.order_number,
            held.org_unit,
            held.warehouse_code,
            held.warehouse_name,
            held.lines,
        )
        return same and all(ours == theirs for ours, theirs in optional if ours)


@dataclass(frozen=True, slots=True)
class SupplierOrder:
    """An order as the supplier holds it, with its whole status history."""

    order_id: str
    status: str
    updated_at: str
    history: tuple[StatusChange, ...]
    request: OrderRequest
    evidence: str = field(default="", compare=False, repr=False)  # the answer as received, kept if it is bad
    idempotency_key: str | None = None  # the key that created it, when the supplier echoes it

    def made_by(self, key: str) -> bool:
        """Whether the supplier says this order was created by a request with this Idempotency-Key."""
        return self.idempotency_key is not None and self.idempotency_key == key

    @property
    def order_number(self) -> str:
        return self.request.order_number


class CatalogProduct(NamedTuple):
    """A product of a supplier's list: a named tuple, because an import builds 100,000 of them and a
    frozen dataclass takes twice as long to construct."""

    product_number: str
    name: str
    barcodes: tuple[str, ...]
    container_amount: int
    purchase_price: Decimal
    currency: str
    tax_rate: str
    active: bool
    updated_at: str


@dataclass(frozen=True, slots=True)
class DispatchNote:
    """A supplier's dispatch notification of one of its orders."""

    notification_id: str
    order_id: str
    dispatched_at: str
    lines: tuple[DispatchLine, ...]
    carrier: str | None = None
    tracking_number: str | None = None
    expected_delivery_date: str | None = None
    evidence: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A pushed move of an order's status: from ``previous`` to the change's status."""

    event_id: str
    order_id: str
    previous: str
    change: StatusChange
    evidence: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DispatchEvent:
    """A pushed dispatch notification."""

    event_id: str
    note: DispatchNote
    evidence: str = field(default="", compare=False, repr=False)

    @property
    def order_id(self) -> str:
        return self.note.order_id


WebhookEvent = StatusEvent | DispatchEvent
