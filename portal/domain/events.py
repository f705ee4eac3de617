"""What happened in the domain, in the past tense."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every domain event."""


@dataclass(frozen=True, slots=True)
class StockOrderSent(Event):
    number: str
    supplier_order_id: str


@dataclass(frozen=True, slots=True)
class StatusObserved(Event):
    number: str
    status: str


@dataclass(frozen=True, slots=True)
class DispatchReceived(Event):
    number: str
    notification_id: str
