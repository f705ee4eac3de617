"""Fakes the tests share: the other side of the wire on loopback, and an in-memory portal for service tests."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

from portal.domain.catalog import Cart, CatalogEntry, Product
from portal.domain.errors import Duplicate, NotFound
from portal.domain.messages import CatalogProduct, DispatchNote, OrderRequest, SupplierOrder
from portal.domain.model import (
    MAX_STOCK,
    ContractViolation,
    DispatchNotification,
    SeenEvent,
    SendIntent,
    StockLevel,
    StockOrder,
    StockReceipt,
)
from portal.domain.setup import CustomerNumber, OrgUnit, Supplier, Warehouse
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import SupplierError
from portal.service_layer.unit_of_work import kind_of


class Receiver:
    """A webhook receiver on loopback that fails its first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.attempts = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=503)
        self.received.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    def events(self) -> list[dict]:
        return [json.loads(body) for body, _ in self.received]


T = TypeVar("T")
UNIQUE: dict[type, tuple[str, ...]] = {SeenEvent: ("customer_number_id", "event_id"), OrgUnit: ("code",)}
KINDS = {
    "org_units": OrgUnit,
    "warehouses": Warehouse,
    "suppliers": Supplier,
    "customers": CustomerNumber,
    "products": Product,
    "catalog": CatalogEntry,
    "carts": Cart,
    "orders": StockOrder,
    "intents": SendIntent,
    "notifications": DispatchNotification,
    "receipts": StockReceipt,
    "stock": StockLevel,
    "violations": ContractViolation,
    "seen_events": SeenEvent,
}


@dataclass
class Store:
    """The committed state: entities by kind and id."""

    rows: dict[str, dict[int, Any]] = field(default_factory=lambda: {name: {} for name in KINDS})
    next_ids: dict[str, int] = field(default_factory=lambda: {name: 1 for name in KINDS})  # per kind, as in SQL


class FakeRepository(Generic[T]):
    def __init__(self, uow: FakeUnitOfWork, name: str) -> None:
        self.uow, self.name, self.cls = uow, name, KINDS[name]

    @property
    def rows(self) -> dict[int, Any]:
        return self.uow.rows[self.name]

    def add(self, entity: T) -> None:
        self.uow.added.append((self.name, entity))

    async def remove(self, entity: T) -> None:
        self.rows.pop(entity.id)  # type: ignore[attr-defined]

    async def get(self, ident: int, lock: bool = False) -> T:
        await self.uow.flush()
        if ident not in self.rows:
            raise NotFound(f"no {kind_of(self.cls)} has this id")
        return self.rows[ident]  # type: ignore[no-any-return]

    async def one(self, lock: bool = False, **where: Any) -> T | None:
        return next(iter(await self.all(**where)), None)

    async def all(self, order_by: str = "id", **where: Any) -> list[T]:
        await self.uow.flush()
        found = [e for e in self.rows.values() if all(getattr(e, k) == v for k, v in where.items())]
        return sorted(found, key=lambda e: getattr(e, order_by))

    async def among(self, attribute: str, values: Sequence[Any], **where: Any) -> list[T]:
        return [e for e in await self.all(**where) if getattr(e, attribute) in values]

    async def count(self, **where: Any) -> int:
        return len(await self.all(**where))

    async def page(self, order_by: str, page: int, size: int, **where: Any) -> tuple[list[T], int]:
        found = await self.all(order_by, **where)
        return found[(page - 1) * size : page * size], len(found)

    async def upsert(self, supplier_id: int, products: Sequence[CatalogProduct]) -> None:
        for p in products:
            known = await self.one(supplier_id=supplier_id, product_number=p.product_number)
            values = [getattr(p, name) for name in ("name", "barcodes", "container_amount", "purchase_price")]
            entry = CatalogEntry(supplier_id, p.product_number, *values, p.currency, p.tax_rate, p.active, p.updated_at)
            if known is not None:
                entry.id = known.id  # type: ignore[attr-defined]
                self.rows[entry.id] = entry  # type: ignore[index]
            else:
                self.add(entry)  # type: ignore[arg-type]

    async def matching(self, entries: Sequence[CatalogEntry], lock: bool = False) -> list[T]:
        items = {(e.supplier_id, e.product_number) for e in entries}
        codes = {code for e in entries for code in e.barcodes}
        return [
            p
            for p in await self.all()
            if {(i.supplier_id, i.product_number) for i in p.items} & items or set(p.barcodes) & codes  # type: ignore[attr-defined]
        ]

    async def ensure(self, supplier_id: int, warehouse_id: int) -> None:
        if await self.one(supplier_id=supplier_id, warehouse_id=warehouse_id) is None:
            self.add(Cart(supplier_id, warehouse_id))  # type: ignore[arg-type]

    async def first_time(self, event: SeenEvent) -> bool:
        self.add(event)  # type: ignore[arg-type]
        try:
            await self.uow.flush()
        except Duplicate:
            return False
        return True

    async def raise_stock(self, warehouse_id: int, product_id: int, quantity: int) -> bool:
        level = await self.one(warehouse_id=warehouse_id, product_id=product_id)
        if (level.quantity if level else 0) + quantity > MAX_STOCK:  # type: ignore[attr-defined]
            return False
        if level is None:
            self.add(StockLevel(warehouse_id, product_id, quantity))  # type: ignore[arg-type]
        else:
            level.quantity += quantity  # type: ignore[attr-defined]
        return True


class FakeUnitOfWork:
    """One transaction on a Store: it works on a copy, and only commit() makes the copy the Store's state."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0
        for name in KINDS:
            setattr(self, name, FakeRepository(self, name))

    async def __aenter__(self) -> FakeUnitOfWork:
        self.rows = copy.deepcopy(self.store.rows)
        self.added: list[tuple[str, Any]] = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.added = []

    async def flush(self) -> None:
        added, self.added = self.added, []
        for name, entity in added:
            keys = UNIQUE.get(KINDS[name], ())
            held = self.rows[name].values()
            if keys and any(all(getattr(e, k) == getattr(entity, k) for k in keys) for e in held):
                raise Duplicate("a concurrent change got there first; reload and try again")
            entity.id = self.store.next_ids[name]
            self.store.next_ids[name] += 1
            self.rows[name][entity.id] = entity

    async def commit(self) -> None:
        await self.flush()
        self.store.rows = copy.deepcopy(self.rows)
        self.commits += 1


@dataclass
class FakeSupplier:
    """A supplier that answers as each test scripts it: a value to return, or a SupplierError to raise."""

    created: list[SupplierOrder | SupplierError] = field(default_factory=list)
    notes: list[DispatchNote] = field(default_factory=list)
    products_listed: list[CatalogProduct] = field(default_factory=list)
    requests: list[tuple[OrderRequest, str]] = field(default_factory=list)
    listed: list[SupplierOrder] = field(default_factory=list)  # what order() and orders() answer
    between: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)  # run once, after the next answer

    async def check_access(self) -> None:
        return None

    async def products(self, updated_since: str | None = None) -> list[CatalogProduct]:
        return list(self.products_listed)

    async def create_order(self, request: OrderRequest, idempotency_key: str) -> SupplierOrder:
        self.requests.append((request, idempotency_key))
        answer = self.created.pop(0)
        if isinstance(answer, SupplierError):
            raise answer
        return answer

    async def order(self, order_id: str) -> SupplierOrder:
        answer = next(o for o in self.listed if o.order_id == order_id)
        await self.meanwhile()
        return answer

    async def orders(self, statuses: Sequence[str] = (), updated_since: str | None = None) -> list[SupplierOrder]:
        answers = list(self.listed)
        await self.meanwhile()
        return answers

    async def meanwhile(self) -> None:
        """What happens after the supplier answered and before the portal applies the answer."""
        while self.between:
            await self.between.pop(0)()

    async def dispatch_notifications(self, order_id: str) -> list[DispatchNote]:
        return list(self.notes)

    async def register_webhook(self, url: str, secret: str) -> Any:
        return {"url": url}


def fake_portal(supplier: FakeSupplier | None = None, now_ms: int = 1_000_000) -> tuple[Portal, Store, FakeSupplier]:
    """A portal on an in-memory store and a scripted supplier, with a fixed clock and a seeded rng."""
    store, supplier = Store(), supplier or FakeSupplier()
    portal = Portal(
        lambda: FakeUnitOfWork(store),  # type: ignore[arg-type, return-value]
        lambda s, c: supplier,
        now=lambda: "2026-01-05T08:00:00.000Z",
        now_ms=lambda: now_ms,
        rng=random.Random(0),
    )
    return portal, store, supplier
