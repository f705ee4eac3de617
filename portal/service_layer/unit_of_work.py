"""The unit of work the services need: one transaction per user action, its repositories, and commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from portal.domain.catalog import Cart, CatalogEntry, Product
from portal.domain.messages import CatalogProduct
from portal.domain.model import (
    ContractViolation,
    DispatchNotification,
    SeenEvent,
    SendIntent,
    StockLevel,
    StockOrder,
    StockReceipt,
)
from portal.domain.setup import CustomerNumber, OrgUnit, Supplier, Warehouse

T = TypeVar("T")


class Repository(Protocol[T]):
    """The entities of one kind; ``where`` filters name their attributes, and ``lock`` holds rows until commit."""

    def add(self, entity: T) -> None: ...

    async def remove(self, entity: T) -> None: ...

    async def get(self, ident: int, lock: bool = False) -> T:
        """The entity, or NotFound naming its kind and id."""
        ...

    async def one(self, lock: bool = False, **where: Any) -> T | None: ...

    async def all(self, order_by: str = "id", **where: Any) -> list[T]: ...

    async def among(self, attribute: str, values: Sequence[Any], **where: Any) -> list[T]:
        """The entities whose ``attribute`` is one of ``values``."""
        ...

    async def count(self, **where: Any) -> int: ...

    async def page(self, order_by: str, page: int, size: int, **where: Any) -> tuple[list[T], int]: ...


class Catalog(Repository[CatalogEntry], Protocol):
    async def upsert(self, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
        """Insert new entries and overwrite known ones, by (supplier, product number)."""
        ...


class Products(Repository[Product], Protocol):
    async def matching(self, entries: Sequence[CatalogEntry], lock: bool = False) -> list[Product]:
        """The products that share a supplier item or a barcode with any of ``entries``, by id."""
        ...


class Carts(Repository[Cart], Protocol):
    async def ensure(self, supplier_id: int, warehouse_id: int) -> None:
        """Make the (empty) cart of a supplier and warehouse exist, however many ask at once."""
        ...


class Stock(Repository[StockLevel], Protocol):
    async def raise_stock(self, warehouse_id: int, product_id: int, quantity: int) -> bool:
        """Add ``quantity`` to a product's stock in a warehouse, whoever else adds at once.

        False, and nothing added, when the level would pass MAX_STOCK.
        """
        ...


class SeenEvents(Repository[SeenEvent], Protocol):
    async def first_time(self, event: SeenEvent) -> bool:
        """Keep ``event`` as seen, in one statement; False, and nothing kept, when its id was seen already.

        Of two deliveries of one event at once, exactly one is the first: the other waits for it.
        """
        ...


class UnitOfWork(Protocol):
    """What a service works through; closing it without commit() keeps nothing of what it did."""

    org_units: Repository[OrgUnit]
    warehouses: Repository[Warehouse]
    suppliers: Repository[Supplier]
    customers: Repository[CustomerNumber]
    products: Products
    catalog: Catalog
    carts: Carts
    orders: Repository[StockOrder]
    intents: Repository[SendIntent]
    notifications: Repository[DispatchNotification]
    receipts: Repository[StockReceipt]
    stock: Stock
    violations: Repository[ContractViolation]
    seen_events: SeenEvents

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        """Keep nothing uncommitted; a race the database undid (a deadlock, say) ends as Duplicate."""
        ...

    async def flush(self) -> None:
        """Give new entities their ids now; Duplicate when one breaks a uniqueness rule."""
        ...

    async def commit(self) -> None:
        """Keep what the action did; Duplicate when it breaks a uniqueness rule, and nothing is kept."""
        ...


KINDS = {
    OrgUnit: "org unit",
    CustomerNumber: "customer number",
    StockOrder: "stock order",
    DispatchNotification: "dispatch notification",
    StockReceipt: "stock receipt",
}


def kind_of(cls: type) -> str:
    """The entity's kind in words, as a NotFound names it."""
    return KINDS.get(cls, cls.__name__.lower())


class Events(Protocol):
    """Where committed changes go, say to a live dashboard; nothing is built for them unless ``listening``."""

    @property
    def listening(self) -> bool: ...

    def publish(self, kind: str, item: Any) -> None: ...


class NoEvents:
    """Nobody listens: the portal without a dashboard."""

    listening = False

    def publish(self, kind: str, item: Any) -> None:
        """Nothing: there is no one to tell."""


TOPICS: dict[type, str] = {
    StockOrder: "order",
    SendIntent: "outbox",
    DispatchNotification: "dispatch",
    StockReceipt: "receipt",
    ContractViolation: "violation",
    CustomerNumber: "customer",
    Supplier: "supplier",
}


def announce(events: Events, changed: Iterable[object], removed: Iterable[object]) -> None:
    """Tell ``events`` what a commit kept: each changed entity by its topic, each removed one as ``<topic>.removed``."""
    for entity in changed:
        if topic := TOPICS.get(type(entity)):
            events.publish(topic, entity)
    for entity in removed:
        if topic := TOPICS.get(type(entity)):
            events.publish(f"{topic}.removed", entity)
