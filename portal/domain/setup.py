"""The retailer's set-up: org units and their warehouses, suppliers, and customer numbers at a supplier."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from portal.domain.errors import InvalidInput


class OrderInterface(StrEnum):
    PRECASTED = "PRECASTED"
    ORDERPORTAL = "ORDERPORTAL"


class AuthMethod(StrEnum):
    BASIC = "basic"
    TOKEN = "token"
    API_KEY = "api-key"


@dataclass(frozen=True, slots=True)
class Credentials:
    """How a customer number signs in at its supplier; the secrets stay out of the repr."""

    method: AuthMethod
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.method not in tuple(AuthMethod):
            methods = ", ".join(AuthMethod)
            raise ValueError(f"unknown auth method {self.method!r}; use one of {methods}")
        object.__setattr__(self, "method", AuthMethod(self.method))

    def check(self) -> None:
        """InvalidInput naming the field when the method lacks what it needs."""
        if self.method is AuthMethod.API_KEY and not self.api_key:
            raise InvalidInput("the api-key method needs an apiKey", field="/apiKey")
        if self.method is not AuthMethod.API_KEY and not (self.username and self.password):
            raise InvalidInput(f"the {self.method.value} method needs a username and a password", field="/password")
        for name, value in (("/username", self.username), ("/password", self.password), ("/apiKey", self.api_key)):
            if value is not None and not _header_safe(value):
                # They travel in HTTP headers: anything else is refused by the client or, worse, altered.
                raise InvalidInput(HEADER_SAFE, field=name)
        if self.method is AuthMethod.BASIC and ":" in (self.username or ""):
            raise InvalidInput("an HTTP Basic username cannot contain ':'", field="/username")


HEADER_SAFE = "must be printable ASCII (letters, digits, punctuation, inner spaces), as an HTTP header carries it"


def _header_safe(value: str) -> bool:
    return value == value.strip(" ") and all(" " <= c <= "~" for c in value)


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

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.auth_method, self.username, self.password, self.api_key)

    def sign_in_with(self, credentials: Credentials) -> None:
        """New credentials from the supplier: the customer number must be coupled again with them."""
        self.auth_method, self.username = credentials.method, credentials.username
        self.password, self.api_key = credentials.password, credentials.api_key
        self.uncouple("the credentials changed: couple again")

    def couple(self) -> None:
        self.state, self.last_error = Coupling.COUPLED, None

    def uncouple(self, reason: str) -> None:
        self.state, self.last_error = Coupling.UNCOUPLED, reason
