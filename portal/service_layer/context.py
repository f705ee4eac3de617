"""What every service needs from outside: sessions, a way to reach a supplier, the time."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.wire import format_timestamp
from portal.adapters.supplier_client import Credentials, SupplierClient
from portal.domain.model import CustomerNumber, StatusChange, Supplier
from portal.service_layer.unit_of_work import UnitOfWork

ClientFactory = Callable[[Supplier, CustomerNumber], SupplierClient]


def utc_now() -> str:
    return format_timestamp(int(datetime.now(UTC).timestamp() * 1000))


def epoch_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Portal:
    """The portal's wiring, made by bootstrap: the only place that knows both sides."""

    sessions: async_sessionmaker[AsyncSession]
    client_for: ClientFactory
    now: Callable[[], str] = utc_now
    now_ms: Callable[[], int] = epoch_ms
    webhook_base_url: str | None = None  # where suppliers reach our receiver; None: polling only
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # the outbox's jitter, seeded
    delivering: set[int] = field(default_factory=set)  # stock orders with a send in flight in this process

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)


def history_of(order: dict[str, Any]) -> tuple[StatusChange, ...]:
    """A Supplier API order's statusHistory as the domain's status changes."""
    return tuple(
        StatusChange(h["status"], h["at"], h.get("reasonCode"), h.get("message")) for h in order["statusHistory"]
    )


def credentials(customer: CustomerNumber) -> Credentials:
    return Credentials(customer.auth_method.value, customer.username, customer.password, customer.api_key)
