"""Ordering through the Orderportal: open it, fill the cart, update products, create, edit, book, send."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from operator import attrgetter

from portal.domain.catalog import Cart, CatalogEntry, Product, SupplierItem
from portal.domain.errors import IllegalState, NotFound, SupplierProblem
from portal.domain.matching import Match, match_all
from portal.domain.model import StockOrder, StockOrderState
from portal.service_layer import common
from portal.service_layer.context import Portal
from portal.service_layer.supplier_errors import ROOT_URL, ContractBroken, SupplierError
from portal.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Import:
    fetched: int
    total: int
    delta: bool


@dataclass(frozen=True, slots=True)
class ProductUpdate:
    created: int
    updated: int
    unchanged: int


async def open_orderportal(portal: Portal, supplier_id: int, warehouse_id: int) -> Import:
    """Import the supplier's list: everything the first time, then only what changed since the last import."""
    async with portal.uow() as uow:
        supplier = await uow.suppliers.get(supplier_id)
        warehouse = await uow.warehouses.get(warehouse_id)
        customer = await common.coupled_customer(uow, supplier, warehouse.org_unit_id)
    cursor = supplier.catalog_cursor
    try:  # no transaction is open while the supplier answers
        products = await portal.client_for(supplier, customer).products(updated_since=cursor)
    except SupplierError as exc:
        if isinstance(exc, ContractBroken):
            await common.keep(portal, supplier_id, "contract", str(exc), exc.endpoint, None)
        hint = f": {ROOT_URL}" if exc.status == 404 else ""  # an API root at the wrong place answers 404
        raise SupplierProblem(f"cannot import the product list of {supplier.name}: {exc}{hint}") from None
    async with portal.uow() as uow:
        supplier = await uow.suppliers.get(supplier_id, lock=True)
        await uow.catalog.upsert(supplier_id, products)
        if products:
            newest = max(map(attrgetter("updated_at"), products))
            supplier.catalog_cursor = max(supplier.catalog_cursor or "", newest)
        total = await uow.catalog.count(supplier_id=supplier_id)  # read before the commit: no second transaction
        await uow.commit()
        return Import(len(products), total, cursor is not None)


async def supplier_products(portal: Portal, supplier_id: int, page: int, size: int) -> tuple[list[Match], int]:
    """A page of the supplier's list, each product with its match and what differs."""
    async with portal.uow() as uow:
        await uow.suppliers.get(supplier_id)
        entries, total = await uow.catalog.page("product_number", page, size, supplier_id=supplier_id)
        return match_all(entries, await _candidates(uow, entries)), total


async def _candidates(uow: UnitOfWork, entries: list[CatalogEntry], lock: bool = False) -> list[Product]:
    """The retailer products that could match these entries: by their supplier items or barcodes."""
    return await uow.products.matching(entries, lock=lock)


async def put_in_cart(
    portal: Portal, supplier_id: int, warehouse_id: int, product_number: str, containers: int
) -> Cart:
    async with portal.uow() as uow:
        cart = await _cart(uow, supplier_id, warehouse_id)
        entry = await uow.catalog.one(supplier_id=supplier_id, product_number=product_number)
        if entry is None:
            raise NotFound("the supplier lists no product with this number; open the Orderportal first")
        if not entry.active:
            raise IllegalState("the product is withdrawn by the supplier and cannot be ordered")
        cart.put(product_number, containers)
        await uow.commit()
        return cart


async def take_out_of_cart(portal: Portal, supplier_id: int, warehouse_id: int, product_number: str) -> Cart:
    async with portal.uow() as uow:
        cart = await _cart(uow, supplier_id, warehouse_id)
        cart.take_out(product_number)
        await uow.commit()
        return cart


async def remove_line(portal: Portal, order_id: int, line_number: int) -> StockOrder:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        order.remove(line_number)
        await uow.commit()
        return order


async def get_cart(portal: Portal, supplier_id: int, warehouse_id: int) -> Cart:
    async with portal.uow() as uow:
        return await _cart(uow, supplier_id, warehouse_id)


async def _cart(uow: UnitOfWork, supplier_id: int, warehouse_id: int) -> Cart:
    """The cart of a supplier and warehouse, held until commit: two tabs never lose each other's lines.

    A cart that exists proves its supplier and warehouse do (foreign keys, and neither is ever
    deleted); only a missing one costs their lookups (404 for an unknown id) and its insert.
    """
    cart = await uow.carts.one(lock=True, supplier_id=supplier_id, warehouse_id=warehouse_id)
    if cart is None:
        await uow.suppliers.get(supplier_id)
        await uow.warehouses.get(warehouse_id)
        await uow.carts.ensure(supplier_id, warehouse_id)
        cart = await uow.carts.one(lock=True, supplier_id=supplier_id, warehouse_id=warehouse_id)
        assert cart is not None, "ensure_cart made it"
    return cart


async def _cart_matches(
    uow: UnitOfWork, supplier_id: int, warehouse_id: int, lock_products: bool = False
) -> tuple[Cart, list[Match]]:
    """The held cart and its lines' matches; with ``lock_products`` the matched products are held too."""
    cart = await _cart(uow, supplier_id, warehouse_id)
    if not cart.lines:
        raise IllegalState("the cart is empty; put products in it first")
    numbers = [line.product_number for line in cart.lines]
    entries = await uow.catalog.among("product_number", numbers, supplier_id=supplier_id)
    return cart, match_all(entries, await _candidates(uow, entries, lock=lock_products))


async def update_products(portal: Portal, supplier_id: int, warehouse_id: int) -> ProductUpdate:
    """Create retailer products for the cart's unmatched supplier products, update the matched ones."""
    async with portal.uow() as uow:
        supplier = await uow.suppliers.get(supplier_id)
        # The products are held (after the cart, in id order) because they are changed: two carts that
        # update the same product one after the other never lose each other's barcodes.
        _, matches = await _cart_matches(uow, supplier_id, warehouse_id, lock_products=True)
        created = updated = 0
        for match in matches:
            entry, product = match.entry, match.product
            item = SupplierItem(supplier_id, entry.product_number, entry.container_amount, entry.purchase_price)
            if product is None:
                number = f"{supplier_id}-{entry.product_number}"
                uow.products.add(Product(number, entry.name, entry.barcodes, supplier.tax_sector, (item,)))
                created += 1
            elif set(match.differences) - {"withdrawn"}:
                product.name = entry.name
                product.barcodes = (*product.barcodes, *(c for c in entry.barcodes if c not in product.barcodes))
                product.set_item(item)
                updated += 1
        await uow.commit()
        return ProductUpdate(created, updated, len(matches) - created - updated)


async def create_stock_orders(portal: Portal, supplier_id: int, warehouse_id: int) -> StockOrder:
    """Turn the cart into a stock order, or into more of the unbooked one for this supplier and warehouse."""
    async with portal.uow() as uow:
        warehouse = await uow.warehouses.get(warehouse_id)
        cart, matches = await _cart_matches(uow, supplier_id, warehouse_id)
        missing = [m.entry.product_number for m in matches if m.product is None]
        if missing:
            raise IllegalState(f"no retailer product for {', '.join(missing)}; run Update Products first")
        unbooked = StockOrderState.UNBOOKED
        order = await uow.orders.one(lock=True, supplier_id=supplier_id, warehouse_id=warehouse_id, state=unbooked)
        if order is None:
            order = StockOrder(f"new-{uuid.uuid4()}", supplier_id, warehouse.org_unit_id, warehouse_id)
            uow.orders.add(order)
            await uow.flush()
            order.number = f"SO-{order.id:06d}"  # from the id: two orders never share a number
        by_number = {m.entry.product_number: m for m in matches}
        for line in cart.lines:
            match = by_number[line.product_number]
            assert match.product is not None and match.product.id is not None
            order.add(match.product.id, line.product_number, line.containers, match.entry.container_amount)
        cart.clear()
        await uow.commit()
        return order


async def edit_stock_order(
    portal: Portal, order_id: int, lines: dict[int, int], note: str | None, requested_delivery_date: str | None
) -> StockOrder:
    """Change containers per line, the note and the delivery date, while unbooked."""
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        for line_number, containers in lines.items():
            order.set_containers(line_number, containers)
        order.edit(note if note is not None else order.note, requested_delivery_date or order.requested_delivery_date)
        await uow.commit()
        return order


async def book_stock_order(portal: Portal, order_id: int) -> StockOrder:
    async with portal.uow() as uow:
        order = await uow.orders.get(order_id, lock=True)
        order.book()
        # Fixed at booking: a resend after a timeout carries the same key, so the supplier makes one order.
        order.idempotency_key = str(uuid.uuid4())
        await uow.commit()
        return order
