"""What every service needs from outside: units of work, a way to reach a supplier, the time, the retry policy."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from contracts.wire import format_timestamp
from portal.domain.messages import CatalogProduct, DispatchNote, OrderRequest, SupplierOrder
from portal.domain.setup import CustomerNumber, Supplier
from portal.service_layer.retry import RetryPolicy
from portal.service_layer.unit_of_work import Events, NoEvents, UnitOfWork


class SupplierApi(Protocol):
    """Supplier API v1 for one customer number, in domain values; failures raise a SupplierError."""

    async def check_access(self) -> None: ...

    async def products(self, updated_since: str | None = None) -> list[CatalogProduct]: ...

    async def create_order(self, request: OrderRequest, idempotency_key: str) -> SupplierOrder: ...

    async def order(self, order_id: str) -> SupplierOrder: ...

    async def orders(self, statuses: Sequence[str] = (), updated_since: str | None = None) -> list[SupplierOrder]: ...

    async def dispatch_notifications(self, order_id: str) -> list[DispatchNote]: ...

    async def register_webhook(self, url: str, secret: str) -> Any: ...


ClientFactory = Callable[[Supplier, CustomerNumber], SupplierApi]


def utc_now() -> str:
    return format_timestamp(int(datetime.now(UTC).timestamp() * 1000))


def epoch_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Portal:
    """The portal's wiring, made by bootstrap: the only place that knows both sides."""

    uow: Callable[[], UnitOfWork]  # a new unit of work for each action
    client_for: ClientFactory
    now: Callable[[], str] = utc_now
    now_ms: Callable[[], int] = epoch_ms
    webhook_base_url: str | None = None  # where suppliers reach our receiver; None: polling only
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # the outbox's jitter, seeded
    delivering: set[int] = field(default_factory=set)  # stock orders with a send in flight in this process
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # what is transient, and the outbox's pauses
    events: Events = field(default_factory=NoEvents)  # where committed changes go: the app's dashboard hub
