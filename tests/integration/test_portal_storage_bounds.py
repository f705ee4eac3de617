"""Every value Supplier API v1 admits fits the portal's storage: properties over the schemas' own limits."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from contracts.loader import contracts
from portal.adapters import translation
from portal.adapters.database import create_schema, make_engine
from portal.adapters.unit_of_work import SqlUnitOfWork
from portal.domain.catalog import CatalogEntry, Product, SupplierItem
from portal.domain.model import MAX_STOCK, OrderLine, StockOrder, StockOrderState
from portal.domain.setup import OrderInterface, OrgUnit, Supplier, Warehouse
from tests.conftest import Shop, make_shop

SCHEMAS = Path(__file__).parents[2] / "contracts" / "schemas"
UNBOUNDED = 10**19  # what a schema without a limit admits, at least: more than any 64-bit column holds


def _schema(name: str) -> dict[str, Any]:
    return dict(json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8")))


def _limit(node: dict[str, Any], key: str) -> int:
    return int(node.get(key, UNBOUNDED))


COMMON = _schema("common")["$defs"]
PRODUCT = _schema("product")["properties"]
LINE = _schema("order-line")["properties"]
IDENTIFIER = min(_limit(COMMON["identifier"], "maxLength"), 10_000)
TIMESTAMP = min(_limit(COMMON["timestamp"], "maxLength"), 10_000)
CONTAINER_AMOUNT = _limit(PRODUCT["containerAmount"], "maximum")
CONTAINERS = _limit(LINE["containers"], "maximum")
NAME = _limit(PRODUCT["name"], "maxLength")

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1)


def _identifier(tag: str, size: int) -> str:
    """A unique identifier of exactly ``size`` characters (the schema's maximum, or less)."""
    return (tag + "-" + "X" * size)[:size]


def _timestamp(size: int) -> str:
    """An RFC 3339 UTC timestamp as long as the contract lets it be."""
    base = "2026-01-05T08:00:00"
    return base + ("." + "123456789" * 8)[: max(0, size - len(base) - 1)].rstrip(".") + "Z"


@pytest.fixture
def runner(portal_db: str) -> Iterator[tuple[asyncio.Runner, Any]]:
    """The portal's schema on the test database, and one event loop for every example."""
    with asyncio.Runner() as run:
        engine = make_engine(portal_db)
        run.run(create_schema(engine))
        yield run, engine
        run.run(engine.dispose())


ids = itertools.count(1)


async def _store_and_read(engine: Any, product: dict[str, Any], containers: int, at: str) -> None:
    """A product and an order of it as the supplier may send them, stored, booked into stock twice, read back."""
    n = next(ids)
    [listed] = translation.catalog_products([product])
    async with SqlUnitOfWork(engine) as uow:
        uow.org_units.add(unit := OrgUnit(_identifier(f"U{n}", IDENTIFIER), "u" * 200))
        uow.suppliers.add(supplier := Supplier(f"S{n}", OrderInterface.ORDERPORTAL, catalog_cursor=at))
        await uow.flush()
        sid = supplier.id or 0
        uow.warehouses.add(house := Warehouse(_identifier(f"W{n}", IDENTIFIER), "w" * 200, unit.id or 0))
        entry = CatalogEntry(sid, f"{n}-{listed.product_number}"[:IDENTIFIER], listed.name, listed.barcodes,
                             listed.container_amount, listed.purchase_price, listed.currency, listed.tax_rate,
                             listed.active, listed.updated_at)  # fmt: skip
        uow.catalog.add(entry)
        item = SupplierItem(sid, entry.product_number, listed.container_amount, listed.purchase_price)
        uow.products.add(retail := Product(_identifier(f"R{n}", IDENTIFIER), listed.name, (), "standard", (item,)))
        await uow.flush()
        line = OrderLine(1, retail.id or 0, entry.product_number, containers, listed.container_amount)
        order = StockOrder(_identifier(f"SO{n}", IDENTIFIER), sid, unit.id or 0, house.id or 0, (line,))
        order.state, order.supplier_order_id, order.status_updated_at = StockOrderState.SENT, "O" * IDENTIFIER, at
        uow.orders.add(order)
        await uow.flush()
        for _ in range(2):  # a stock level is a sum: two receipts of the largest line
            assert await uow.stock.raise_stock(house.id or 0, retail.id or 0, line.quantity)
        await uow.commit()
    async with SqlUnitOfWork(engine) as uow:
        assert await uow.catalog.get(entry.id or 0) == entry
        held = await uow.orders.get(order.id or 0)
        assert held.lines == (line,) and held.status_updated_at == at
        (level,) = await uow.stock.all(warehouse_id=house.id or 0)
        assert level.quantity == 2 * containers * listed.container_amount


products = st.fixed_dictionaries(
    {
        "productNumber": texts.map(lambda s: s[:IDENTIFIER]),
        "name": texts.map(lambda s: s[:NAME]),
        "barcodes": st.just([]),
        "containerAmount": st.integers(1, CONTAINER_AMOUNT),
        "purchasePrice": st.fixed_dictionaries(
            {
                "amount": st.decimals(0, Decimal("999999999999999.99"), places=2).map(str),
                "currency": st.just("EUR"),
            }
        ),
        "taxRate": st.sampled_from(["0", "9", "21", "99.99"]),
        "active": st.booleans(),
        "updatedAt": st.integers(20, TIMESTAMP).map(_timestamp),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=products, containers=st.integers(1, CONTAINERS), at=st.integers(20, TIMESTAMP).map(_timestamp))
@example(
    product={
        "productNumber": "P" * IDENTIFIER,
        "name": "N" * NAME,
        "barcodes": [],
        "containerAmount": CONTAINER_AMOUNT,
        "purchasePrice": {"amount": "999999999999999.99", "currency": "EUR"},
        "taxRate": "99.99",
        "active": True,
        "updatedAt": _timestamp(TIMESTAMP),
    },
    containers=CONTAINERS,
    at=_timestamp(TIMESTAMP),
)
def test_every_product_and_order_line_the_contract_admits_is_stored_and_summed_as_it_came(
    runner: tuple[asyncio.Runner, Any], product: dict[str, Any], containers: int, at: str
) -> None:
    assume(contracts().is_valid("product", product))  # outside it: a contract violation (test_portal_hostile)
    run, engine = runner
    run.run(_store_and_read(engine, product, containers, at))


async def test_a_stock_level_stops_at_its_limit_and_the_raise_that_would_pass_it_adds_nothing(portal_db: str) -> None:
    engine = make_engine(portal_db)
    await create_schema(engine)
    try:
        async with SqlUnitOfWork(engine) as uow:
            uow.org_units.add(unit := OrgUnit("U", "u"))
            await uow.flush()
            uow.warehouses.add(house := Warehouse("W", "w", unit.id or 0))
            uow.products.add(retail := Product("R", "r"))
            await uow.flush()
            where = (house.id or 0, retail.id or 0)
            assert await uow.stock.raise_stock(*where, MAX_STOCK - 1)
            assert await uow.stock.raise_stock(*where, 1)
            assert not await uow.stock.raise_stock(*where, 1)
            assert not await uow.stock.raise_stock(*where, UNBOUNDED)
            await uow.commit()
        async with SqlUnitOfWork(engine) as uow:
            assert [level.quantity for level in await uow.stock.all()] == [MAX_STOCK]
    finally:
        await engine.dispose()


async def test_a_timestamp_longer_than_the_contract_admits_is_a_recorded_violation_not_a_500(shop: Shop) -> None:
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    order = await shop.api.send((await shop.order([(product, 1)]))["id"])
    at = "2026-01-05T09:00:00." + "1" * 60 + "Z"
    data = {"orderId": order["orderportal"]["supplierOrderId"], "orderNumber": order["number"]}
    event = {
        "eventId": "e-long",
        "type": "order.status_changed",
        "occurredAt": "2026-01-05T09:00:00.000Z",
        "data": {**data, "previousStatus": "NEW", "status": "PROCESSED", "at": at},
    }
    raw, headers = await shop.signed(event)
    answer = await shop.api.call("POST", f"/api/webhooks/{shop.customer['id']}", data=raw, headers=headers)
    assert answer.status == 422 and "breaks the contract" in answer.body["detail"]
    assert (await shop.api.stock_order(order["id"]))["orderportal"]["status"] == "NEW"
    assert [v["kind"] for v in await shop.api.violations(shop.supplier["id"])] == ["contract"]


async def test_a_supplier_product_number_as_long_as_the_contract_admits_becomes_a_retailer_product(
    start_sim, start_portal, session, tmp_path: Path
) -> None:
    number = "P" * IDENTIFIER
    product = {
        "productNumber": number,
        "name": "the longest number",
        "barcodes": [],
        "containerAmount": 6,
        "purchasePrice": {"amount": "1.50", "currency": "EUR"},
        "taxRate": "21",
    }
    (catalog := tmp_path / "catalog.json").write_text(json.dumps([product]), "utf-8")
    shop = await make_shop(await start_sim({"catalog": {"file": str(catalog)}}), await start_portal(), session)
    await shop.open()
    order = await shop.order([(number, 1)])
    assert [line["supplierProductNumber"] for line in order["lines"]] == [number]
