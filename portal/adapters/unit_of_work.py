"""The unit of work on SQLAlchemy: one session per user action, committed only when the action succeeds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal.adapters.database import Sessions, lost_race
from portal.adapters.repositories import (
    HELD,
    SqlCarts,
    SqlCatalog,
    SqlProducts,
    SqlRepository,
    SqlSeenEvents,
    SqlStock,
)
from portal.domain.catalog import Cart, CatalogEntry, Product
from portal.domain.errors import Duplicate
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
from portal.service_layer.unit_of_work import (
    TOPICS,
    Carts,
    Catalog,
    Events,
    NoEvents,
    Products,
    Repository,
    SeenEvents,
    Stock,
    announce,
)

CONFLICT = "a concurrent change got there first; reload and try again"
CHANGES = "changes"  # the entities a session flushed, kept only while someone listens for them


class UnlockedChange(RuntimeError):
    """A service changed a stored row it had not loaded with ``lock=True``: on PostgreSQL a race would lose."""


class SqlUnitOfWork:
    def __init__(self, sessions: Sessions, events: Events | None = None) -> None:
        self._sessions = sessions
        self._events = events or NoEvents()

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._session = self._sessions()
        session.info[HELD] = set()
        if self._events.listening:  # with nobody listening, a flush notes nothing
            session.info[CHANGES] = ({}, {})
        self.org_units: Repository[OrgUnit] = SqlRepository(session, OrgUnit)
        self.warehouses: Repository[Warehouse] = SqlRepository(session, Warehouse)
        self.suppliers: Repository[Supplier] = SqlRepository(session, Supplier)
        self.customers: Repository[CustomerNumber] = SqlRepository(session, CustomerNumber)
        self.products: Products = SqlProducts(session, Product)
        self.catalog: Catalog = SqlCatalog(session, CatalogEntry)
        self.carts: Carts = SqlCarts(session, Cart)
        self.orders: Repository[StockOrder] = SqlRepository(session, StockOrder)
        self.intents: Repository[SendIntent] = SqlRepository(session, SendIntent)
        self.notifications: Repository[DispatchNotification] = SqlRepository(session, DispatchNotification)
        self.receipts: Repository[StockReceipt] = SqlRepository(session, StockReceipt)
        self.stock: Stock = SqlStock(session, StockLevel)
        self.violations: Repository[ContractViolation] = SqlRepository(session, ContractViolation)
        self.seen_events: SeenEvents = SqlSeenEvents(session, SeenEvent)
        return self

    async def __aexit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        # Closing rolls back whatever was not committed and detaches the objects without expiring
        # them, so that an answer can still be built from what the action loaded.
        await self._session.close()
        if isinstance(error, DBAPIError) and lost_race(error):
            # A deadlock or a serialization failure on PostgreSQL: nothing was kept, the user retries.
            raise Duplicate(CONFLICT) from None

    async def flush(self) -> None:
        try:
            await self._session.flush()
        except IntegrityError:
            raise Duplicate(CONFLICT) from None

    async def commit(self) -> None:
        try:
            await self._session.commit()
        except IntegrityError:
            raise Duplicate(CONFLICT) from None
        noted = self._session.info.get(CHANGES)
        if noted is not None:
            changed, removed = noted
            self._session.info[CHANGES] = ({}, {})
            announce(self._events, changed.values(), removed.values())


@event.listens_for(Session, "before_flush")
def _only_held_rows_change(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse to write a row the action read without a lock: SQLite forgives it, PostgreSQL loses a race."""
    held = session.info.get(HELD)
    if held is None:  # not a unit of work's session
        return
    for entity in session.dirty:
        key = inspect(entity).identity_key
        if key not in held and session.is_modified(entity):
            raise UnlockedChange(f"{type(entity).__name__} {key[1] if key else ''} changed without lock=True")


@event.listens_for(Session, "after_flush")
def _hold_new_rows(session: Session, _context: Any) -> None:
    """A row the action inserted is its own until commit: no one else sees it to race for it."""
    held = session.info.get(HELD)
    if held is not None:
        # identity_key is set only after this hook: the key is built from the inserted primary key.
        held.update(inspect(entity).mapper.identity_key_from_instance(entity) for entity in session.new)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    """What the flush wrote, by identity, for the events a commit announces."""
    noted = session.info.get(CHANGES)
    if noted is None:
        return
    changed, removed = noted
    for entity in session.new:
        if type(entity) in TOPICS:  # a catalog import's thousands of rows are looked at, not kept
            changed[id(entity)] = entity
    for entity in session.dirty:
        if type(entity) in TOPICS and session.is_modified(entity):
            changed[id(entity)] = entity
    for entity in session.deleted:
        if type(entity) in TOPICS:
            changed.pop(id(entity), None)
            removed[id(entity)] = entity
