"""The stock order and what follows it: sending through the outbox, tracking, dispatches, receipts and stock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from portal.domain.errors import IllegalState, InvalidInput, NotFound

MAX_CONTAINERS = 1_000_000  # Supplier API v1's limits on a line
MAX_LINES = 1000
MAX_STOCK = 10**18  # what a stock level can hold: a 64-bit integer on both databases, with room to spare


class StockOrderState(StrEnum):
    UNBOOKED = "UNBOOKED"
    BOOKED = "BOOKED"
    SENT = "SENT"


class ReceiptState(StrEnum):
    UNBOOKED = "UNBOOKED"
    BOOKED = "BOOKED"


@dataclass(frozen=True, slots=True)
class OrderLine:
    """Ordering is by container: the units are containers x container amount."""

    line_number: int
    product_id: int
    supplier_product_number: str
    containers: int
    container_amount: int

    @property
    def quantity(self) -> int:
        return self.containers * self.container_amount


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str
    at: str
    reason_code: str | None = None
    message: str | None = None


@dataclass
class StockOrder:
    number: str
    supplier_id: int
    org_unit_id: int
    warehouse_id: int
    lines: tuple[OrderLine, ...] = ()
    state: StockOrderState = StockOrderState.UNBOOKED
    note: str | None = None
    requested_delivery_date: str | None = None
    idempotency_key: str | None = None
    supplier_order_id: str | None = None
    portal_status: str | None = None
    status_history: tuple[StatusChange, ...] = ()
    rejection_reason: str | None = None
    status_updated_at: str | None = None
    id: int | None = None

    def _editable(self) -> None:
        if self.state is not StockOrderState.UNBOOKED:
            raise IllegalState(f"stock order {self.number} is {self.state.value}; only an unbooked order can be edited")

    def add(self, product_id: int, supplier_product_number: str, containers: int, container_amount: int) -> None:
        """Add containers of a product; a product already on the order gets them added to its line."""
        self._editable()
        _check_containers(containers)
        for index, line in enumerate(self.lines):
            if line.product_id == product_id:
                _check_containers(line.containers + containers)
                merged = replace(line, containers=line.containers + containers, container_amount=container_amount)
                self.lines = (*self.lines[:index], merged, *self.lines[index + 1 :])
                return
        if len(self.lines) >= MAX_LINES:
            raise InvalidInput(f"stock order {self.number} has {MAX_LINES} lines, the most a supplier takes")
        number = max((line.line_number for line in self.lines), default=0) + 1
        self.lines = (*self.lines, OrderLine(number, product_id, supplier_product_number, containers, container_amount))

    def set_containers(self, line_number: int, containers: int) -> None:
        """Change a line's containers."""
        self._editable()
        _check_containers(containers)
        self._line(line_number)
        self.lines = tuple(
            replace(line, containers=containers) if line.line_number == line_number else line for line in self.lines
        )

    def remove(self, line_number: int) -> None:
        self._editable()
        self._line(line_number)
        self.lines = tuple(line for line in self.lines if line.line_number != line_number)

    def _line(self, line_number: int) -> OrderLine:
        line = self.line_for(line_number)
        if line is None:
            raise NotFound(f"stock order {self.number} has no line with this number")
        return line

    def edit(self, note: str | None, requested_delivery_date: str | None) -> None:
        self._editable()
        self.note, self.requested_delivery_date = note, requested_delivery_date

    def book(self) -> None:
        self._editable()
        if not self.lines:
            raise IllegalState(f"stock order {self.number} has no lines; add some before booking")
        self.state = StockOrderState.BOOKED

    def sent(self, supplier_order_id: str, status: str, history: tuple[StatusChange, ...], at: str) -> None:
        """The supplier holds the order now."""
        if self.state is not StockOrderState.BOOKED:
            raise IllegalState(f"stock order {self.number} is {self.state.value}; only a booked order is sent")
        self.state = StockOrderState.SENT
        self.supplier_order_id = supplier_order_id
        self.portal_status, self.status_history, self.status_updated_at = status, history, at

    def line_for(self, line_number: int) -> OrderLine | None:
        return next((line for line in self.lines if line.line_number == line_number), None)


def _check_containers(containers: int) -> None:
    if not 1 <= containers <= MAX_CONTAINERS:
        raise InvalidInput(f"containers must be from 1 to {MAX_CONTAINERS:,}", field="/containers")


@dataclass(frozen=True, slots=True)
class DispatchLine:
    line_number: int
    supplier_product_number: str
    quantity: int


@dataclass
class DispatchNotification:
    stock_order_id: int
    notification_id: str
    dispatched_at: str
    lines: tuple[DispatchLine, ...]
    carrier: str | None = None
    tracking_number: str | None = None
    expected_delivery_date: str | None = None
    received: bool = False
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    line_number: int
    product_id: int
    quantity: int


@dataclass
class StockReceipt:
    stock_order_id: int
    warehouse_id: int
    lines: tuple[ReceiptLine, ...]
    dispatch_notification_id: int | None = None
    state: ReceiptState = ReceiptState.UNBOOKED
    id: int | None = None

    def book(self) -> None:
        if self.state is ReceiptState.BOOKED:
            raise IllegalState(f"stock receipt {self.id} is already booked")
        self.state = ReceiptState.BOOKED


@dataclass
class StockLevel:
    warehouse_id: int
    product_id: int
    quantity: int = 0
    id: int | None = None


@dataclass
class ContractViolation:
    """A supplier broke the contract; kept with its evidence, and nothing was applied."""

    supplier_id: int
    kind: str
    detail: str
    evidence: str
    at: str
    stock_order_id: int | None = None
    id: int | None = None


@dataclass
class SendIntent:
    """The outbox: a booked order the portal has promised to send, committed before any network call.

    A crash between the supplier's answer and the portal's commit leaves the intent behind, and the
    next delivery sends the order again with the same Idempotency-Key: the supplier holds one order.
    """

    stock_order_id: int
    idempotency_key: str
    queued_at: str
    attempts: int = 0
    next_attempt_ms: int = 0
    last_error: str | None = None
    id: int | None = None

    def failed(self, error: str, now_ms: int, pause_ms: int) -> None:
        """An attempt that got no usable answer: try again after ``pause_ms``."""
        self.attempts += 1
        self.last_error = error
        self.next_attempt_ms = now_ms + pause_ms


@dataclass
class SeenEvent:
    """A webhook event already handled for a customer number: a redelivery is ignored."""

    customer_number_id: int
    event_id: str
    received_at: str
    id: int | None = None
