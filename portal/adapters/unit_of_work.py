"""The unit of work on SQLAlchemy Core: one connection per user action, committed only when the action succeeds."""

from __future__ import annotations

import sys
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.exc import DBAPIError

from portal.adapters.database import Engine, lost_race
from portal.adapters.identity_map import (
    CONFLICT,
    DbConnection,
    FailedTransaction,
    ForeignEntity,
    IdentityMap,
    UnlockedChange,
)
from portal.adapters.repositories import (
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

__all__ = ["CONFLICT", "FailedTransaction", "ForeignEntity", "SqlUnitOfWork", "UnlockedChange"]


class SqlUnitOfWork:
    def __init__(self, engine: Engine, events: Events | None = None) -> None:
        self._engine = engine
        self._events = events or NoEvents()

    async def __aenter__(self) -> SqlUnitOfWork:
        self._connecting: AbstractAsyncContextManager[Any] = self._engine.connect()
        connection: DbConnection = await self._connecting.__aenter__()
        try:
            rows = self.rows = IdentityMap(connection, noting=self._events.listening)
        except BaseException:
            await self._connecting.__aexit__(*sys.exc_info())
            raise
        self.org_units: Repository[OrgUnit] = SqlRepository(rows, OrgUnit)
        self.warehouses: Repository[Warehouse] = SqlRepository(rows, Warehouse)
        self.suppliers: Repository[Supplier] = SqlRepository(rows, Supplier)
        self.customers: Repository[CustomerNumber] = SqlRepository(rows, CustomerNumber)
        self.products: Products = SqlProducts(rows, Product)
        self.catalog: Catalog = SqlCatalog(rows, CatalogEntry)
        self.carts: Carts = SqlCarts(rows, Cart)
        self.orders: Repository[StockOrder] = SqlRepository(rows, StockOrder)
        self.intents: Repository[SendIntent] = SqlRepository(rows, SendIntent)
        self.notifications: Repository[DispatchNotification] = SqlRepository(rows, DispatchNotification)
        self.receipts: Repository[StockReceipt] = SqlRepository(rows, StockReceipt)
        self.stock: Stock = SqlStock(rows, StockLevel)
        self.violations: Repository[ContractViolation] = SqlRepository(rows, ContractViolation)
        self.seen_events: SeenEvents = SqlSeenEvents(rows, SeenEvent)
        return self

    async def __aexit__(self, kind: Any, error: BaseException | None, trace: Any) -> None:
        # Closing the connection rolls back whatever was not committed; the entities stay as they
        # are, so that an answer can still be built from what the action loaded.
        self.rows.close()
        await self._connecting.__aexit__(kind, error, trace)
        if isinstance(error, DBAPIError) and lost_race(error):
            # A deadlock or a serialization failure on PostgreSQL: nothing was kept, the user retries.
            raise Duplicate(CONFLICT) from None

    async def flush(self) -> None:
        await self.rows.flush()

    async def commit(self) -> None:
        await self.rows.commit()
        noted = self.rows.notes
        if noted is not None:
            changed, removed = noted
            self.rows.notes = ({}, {})
            announce(self._events, changed.values(), removed.values())
