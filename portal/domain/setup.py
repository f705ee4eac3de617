"""The retailer's set-up: org units and their warehouses, suppliers, and customer numbers at a supplier."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OrderInterface(StrEnum):
    PRECASTED = "PRECASTED"
    ORDERPORTAL = "ORDERPORTAL"


class AuthMethod(StrEnum):
    BASIC = "basic"
    TOKEN = "token"
    API_KEY = "api-key"


class Coupling(StrEnum):
    UNCOUPLED = "UNCOUPLED"
    COUPLED = "COUPLED"


@dataclass
class OrgUnit:
    code: str
    name: str
    id: int | None = None


@dataclass
class Warehouse:
    code: str
    name: str
    org_unit_id: int
    id: int | None = None


@dataclass
class Supplier:
    name: str
    order_interface: OrderInterface = OrderInterface.PRECASTED
    base_url: str | None = None
    tax_sector: str = "standard"
    catalog_cursor: str | None = None  # the newest updatedAt imported: the next delta starts there
    id: int | None = None


@dataclass
class CustomerNumber:
    """A retailer's customer number at a supplier, for one org unit; coupled once the supplier accepts it."""

    supplier_id: int
    org_unit_id: int
    number: str
    auth_method: AuthMethod
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    state: Coupling = Coupling.UNCOUPLED
    last_error: str | None = None
    poll_cursor: str | None = None  # the newest updatedAt seen when polling every open order
    id: int | None = None

    def couple(self) -> None:
        self.state, self.last_error = Coupling.COUPLED, None

    def uncouple(self, reason: str) -> None:
        self.state, self.last_error = Coupling.UNCOUPLED, reason
