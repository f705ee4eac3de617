"""The read side: what the portal keeps, listed and read, for the API and the dashboard alike.

Each function opens a unit of work of its own and changes nothing. Lists that grow with use come
a page at a time; filters that are None do not filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from portal.domain.catalog import Cart, Product
from portal.domain.model import (
    ContractViolation,
    DispatchNotification,
    SendIntent,
    StockOrder,
    StockOrderState,
    StockReceipt,
)
from portal.domain.setup import Coupling, CustomerNumber, OrgUnit, Supplier, Warehouse
from portal.domain.statuses import Status
from portal.service_layer.context import Portal
from portal.service_layer.unit_of_work import Repository, UnitOfWork

T = TypeVar("T")
PAGE_SIZE = 100  # a page's size when none is asked for
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and how many items the whole list holds."""

    items: list[T]
    total: int
    page: int
    size: int


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """One stock order and everything that followed it: its outbox entry, dispatches, receipts and evidence."""

    order: StockOrder
    intent: SendIntent | None
    notifications: list[DispatchNotification]
    receipts: list[StockReceipt]
    violations: list[ContractViolation]


@dataclass(frozen=True, slots=True)
class NamedStockLevel:
    """A stock level with the product's number and name, so a person can read it."""

    warehouse_id: int
    product_id: int
    product_number: str
    product_name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An outbox entry with the number and supplier of the order it sends."""

    intent: SendIntent
    order_number: str
    supplier_id: int


def _where(**filters: Any) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if value is not None}


async def _page(repository: Repository[T], page: int, size: int, **filters: Any) -> Page[T]:
    items, total = await repository.page("id", page, size, **_where(**filters))
    return Page(items, total, page, size)


async def org_units(portal: Portal) -> list[OrgUnit]:
    async with portal.uow() as uow:
        return await uow.org_units.all()


async def org_unit(portal: Portal, unit_id: int) -> OrgUnit:
    async with portal.uow() as uow:
        return await uow.org_units.get(unit_id)


async def warehouses(portal: Portal, org_unit_id: int | None = None) -> list[Warehouse]:
    async with portal.uow() as uow:
        return await uow.warehouses.all(**_where(org_unit_id=org_unit_id))


async def warehouse(portal: Portal, warehouse_id: int) -> Warehouse:
    async with portal.uow() as uow:
        return await uow.warehouses.get(warehouse_id)


async def suppliers(portal: Portal) -> list[Supplier]:
    async with portal.uow() as uow:
        return await uow.suppliers.all()


async def supplier(portal: Portal, supplier_id: int) -> Supplier:
    async with portal.uow() as uow:
        return await uow.suppliers.get(supplier_id)


async def customer_numbers(
    portal: Portal, supplier_id: int | None = None, org_unit_id: int | None = None, state: Coupling | None = None
) -> list[CustomerNumber]:
    """Customer numbers with their coupling state; the credentials stay in the objects, a view drops them."""
    async with portal.uow() as uow:
        return await uow.customers.all(**_where(supplier_id=supplier_id, org_unit_id=org_unit_id, state=state))


async def customer_number(portal: Portal, customer_id: int) -> CustomerNumber:
    async with portal.uow() as uow:
        return await uow.customers.get(customer_id)


async def carts(portal: Portal, supplier_id: int | None = None, warehouse_id: int | None = None) -> list[Cart]:
    """The carts opened so far, empty ones included."""
    async with portal.uow() as uow:
        return await uow.carts.all(**_where(supplier_id=supplier_id, warehouse_id=warehouse_id))


async def stock_orders(
    portal: Portal,
    state: StockOrderState | None = None,
    supplier_id: int | None = None,
    status: Status | None = None,
    warehouse_id: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page[StockOrder]:
    """A page of stock orders, oldest first; ``state`` is the portal's, ``status`` the Orderportal's."""
    async with portal.uow() as uow:
        found = dict(state=state, supplier_id=supplier_id, portal_status=status, warehouse_id=warehouse_id)
        return await _page(uow.orders, page, size, **found)


async def stock_order_counts(portal: Portal) -> dict[str, int]:
    """How many stock orders are in each state, and each sent one in each Orderportal status."""
    async with portal.uow() as uow:
        counts = {state.value: await uow.orders.count(state=state) for state in StockOrderState}
        for status in Status:
            counts[status.value] = await uow.orders.count(state=StockOrderState.SENT, portal_status=status)
        return counts


async def stock_order(portal: Portal, order_id: int) -> OrderDetail:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id)
        return OrderDetail(
            order,
            await uow.intents.one(stock_order_id=order_id),
            await uow.notifications.all(stock_order_id=order_id),
            await uow.receipts.all(stock_order_id=order_id),
            await uow.violations.all(stock_order_id=order_id),
        )


async def products(portal: Portal, product_ids: Sequence[int]) -> list[Product]:
    """The products of these ids, say an order's lines', by id; an unknown id is left out."""
    async with portal.uow() as uow:
        return sorted(await uow.products.among("id", sorted(set(product_ids))), key=lambda p: p.id or 0)


async def dispatch_notifications(
    portal: Portal, stock_order_id: int | None = None, page: int = 1, size: int = PAGE_SIZE
) -> Page[DispatchNotification]:
    async with portal.uow() as uow:
        return await _page(uow.notifications, page, size, stock_order_id=stock_order_id)


async def dispatch_notification(portal: Portal, notification_id: int) -> DispatchNotification:
    async with portal.uow() as uow:
        return await uow.notifications.get(notification_id)


async def stock_receipts(
    portal: Portal,
    stock_order_id: int | None = None,
    warehouse_id: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page[StockReceipt]:
    async with portal.uow() as uow:
        return await _page(uow.receipts, page, size, stock_order_id=stock_order_id, warehouse_id=warehouse_id)


async def stock_receipt(portal: Portal, receipt_id: int) -> StockReceipt:
    async with portal.uow() as uow:
        return await uow.receipts.get(receipt_id)


async def stock_levels(portal: Portal, warehouse_id: int | None = None) -> list[NamedStockLevel]:
    """Stock levels by warehouse and product number; one warehouse's must exist (NotFound otherwise)."""
    async with portal.uow() as uow:
        if warehouse_id is not None:
            await uow.warehouses.get(warehouse_id)
        levels = await uow.stock.all(order_by="product_id", **_where(warehouse_id=warehouse_id))
        products = {p.id: p for p in await uow.products.among("id", sorted({x.product_id for x in levels}))}
    named = [
        NamedStockLevel(
            x.warehouse_id, x.product_id, products[x.product_id].number, products[x.product_id].name, x.quantity
        )
        for x in levels
    ]
    return sorted(named, key=lambda x: (x.warehouse_id, x.product_number))


async def contract_violations(
    portal: Portal,
    supplier_id: int | None = None,
    stock_order_id: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page[ContractViolation]:
    """The evidence kept of suppliers that broke the contract, oldest first."""
    async with portal.uow() as uow:
        return await _page(uow.violations, page, size, supplier_id=supplier_id, stock_order_id=stock_order_id)


async def outbox(portal: Portal) -> list[OutboxRow]:
    """Every order waiting to be sent, oldest first, with its number and supplier."""
    async with portal.uow() as uow:
        intents = await uow.intents.all()
        return await _outbox_rows(uow, intents)


async def _outbox_rows(uow: UnitOfWork, intents: list[SendIntent]) -> list[OutboxRow]:
    orders = {o.id: o for o in await uow.orders.among("id", [i.stock_order_id for i in intents])}
    return [
        OutboxRow(i, orders[i.stock_order_id].number, orders[i.stock_order_id].supplier_id)
        for i in intents
        if i.stock_order_id in orders
    ]


async def waiting(portal: Portal, order_ids: list[int]) -> dict[int, SendIntent]:
    """The outbox entries of those of these orders that wait to be sent, by order id."""
    async with portal.uow() as uow:
        return {i.stock_order_id: i for i in await uow.intents.among("stock_order_id", order_ids)}
