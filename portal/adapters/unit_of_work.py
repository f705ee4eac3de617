"""The unit of work on SQLAlchemy: one session per user action, committed only when the action succeeds."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.adapters.repositories import SqlCarts, SqlCatalog, SqlProducts, SqlRepository, SqlStock
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
from portal.service_layer.unit_of_work import Carts, Catalog, Products, Repository, Stock

CONFLICT = "a concurrent change got there first; reload and try again"


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        session = self._session = self._sessions()
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
        self.seen_events: Repository[SeenEvent] = SqlRepository(session, SeenEvent)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Closing rolls back whatever was not committed and detaches the objects without expiring
        # them, so that an answer can still be built from what the action loaded.
        await self._session.close()

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
