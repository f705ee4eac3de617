"""Portal benchmarks: importing a large catalog, and stock orders from cart to booked receipt.

Run as ``.venv/bin/python bench/bench_portal.py`` (``--quick`` for a small run). The simulator,
the portal and this client share one process and one event loop: the figures are for the whole
harness on one core, each beside a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from contracts.wire import basic_authorization
from portal.adapters.catalog_store import row
from portal.bootstrap import PortalServer
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile

FAST = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


class Api:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def __call__(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer.get('detail')}")
            return answer


async def shop(api: Api, sim: SimServer) -> tuple[dict[str, Any], dict[str, Any]]:
    unit = await api("POST", "/api/org-units", {"code": "S1", "name": "Store"})
    house = await api("POST", "/api/warehouses", {"code": "W1", "name": "Warehouse", "orgUnitId": unit["id"]})
    supplier = await api("POST", "/api/suppliers", {"name": "Sim", "orderInterface": "ORDERPORTAL", "baseUrl": sim.url})
    login = sim.sim.profile.customer("10001")
    assert login is not None
    body = {"supplierId": supplier["id"], "orgUnitId": unit["id"], "number": "10001", "authMethod": "basic"}
    customer = await api(
        "POST", "/api/customer-numbers", {**body, "username": login.username, "password": login.password}
    )
    await api("POST", f"/api/customer-numbers/{customer['id']}/couple")
    return supplier, house


def bare_insert(products: list[dict[str, Any]], path: Path) -> float:
    """The baseline: the same rows, one executemany into a bare SQLite table."""
    rows = [row(1, p) for p in products]
    values = [
        (
            r["supplier_id"],
            r["product_number"],
            r["name"],
            ",".join(r["barcodes"]),
            r["container_amount"],
            str(r["purchase_price"]),
            r["currency"],
            r["tax_rate"],
            r["active"],
            r["updated_at"],
        )
        for r in rows
    ]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE entries (supplier_id, product_number, name, barcodes, container_amount, "
        "purchase_price, currency, tax_rate, active, updated_at, UNIQUE (supplier_id, product_number))"
    )
    started = time.perf_counter()
    with db:
        db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


async def import_catalog(size: int, tmp: Path) -> None:
    profile = parse_profile({"catalog": {"size": size, "changes": []}}, base=None)
    async with (
        SimServer(SimConfig(profile=profile)) as sim,
        PortalServer(db_url=str(tmp / "import.db"), webhooks=False, sync_interval_s=None) as portal,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, portal.url)
        supplier, house = await shop(api, sim)
        started = time.perf_counter()
        done = await api("POST", "/api/orderportal/open", {"supplierId": supplier["id"], "warehouseId": house["id"]})
        elapsed = time.perf_counter() - started
        assert done["fetched"] == size, done
        baseline = bare_insert(sim.sim.catalog.products(), tmp / "bare.db")
    print(f"import {size:,} products through the portal: {elapsed:6.2f} s  ({size / elapsed:,.0f} products/s)")
    print(f"bare SQLite executemany of the same rows:   {baseline:6.2f} s  ({size / baseline:,.0f} rows/s)")
    pages = -(-size // 1000)
    extra = f"the portal also fetches {pages} pages over HTTP and checks each"
    print(f"ratio portal / bare: {elapsed / baseline:.1f}x ({extra})")


async def order_flow(count: int, tmp: Path) -> None:
    profile = parse_profile({**FAST, "catalog": {"size": 200, "changes": []}}, base=None)
    async with (
        SimServer(SimConfig(profile=profile)) as sim,
        PortalServer(db_url=str(tmp / "flow.db"), sync_interval_s=None) as portal,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, portal.url)
        supplier, house = await shop(api, sim)
        await api("POST", "/api/orderportal/open", {"supplierId": supplier["id"], "warehouseId": house["id"]})
        products = [
            p for p in (await api("GET", f"/api/suppliers/{supplier['id']}/products?size=1000"))["items"] if p["active"]
        ]
        cart = f"/api/carts/{supplier['id']}/{house['id']}"
        started = time.perf_counter()
        ids = []
        for n in range(count):
            await api("PUT", f"{cart}/lines/{products[n % len(products)]['productNumber']}", {"containers": 1 + n % 5})
            await api("POST", f"{cart}/update-products")
            order = await api("POST", f"{cart}/create-stock-orders")
            await api("POST", f"/api/stock-orders/{order['id']}/book")
            await api("POST", f"/api/stock-orders/{order['id']}/send")
            ids.append(order["id"])
            if (n + 1) % max(1, count // 10) == 0:
                print(f"  {n + 1} of {count} sent", flush=True)
        sending = time.perf_counter() - started
        await sim.admin(session, "POST", "clock/advance", json={"by": "1h"})
        tracking = time.perf_counter() - started - sending
        for order_id in ids:
            notes = await api("POST", f"/api/stock-orders/{order_id}/dispatch-notifications")
            receipt = await api("POST", f"/api/dispatch-notifications/{notes['items'][0]['id']}/receipt", {})
            await api("POST", f"/api/stock-receipts/{receipt['id']}/book")
        elapsed = time.perf_counter() - started
        receiving = elapsed - sending - tracking
        baseline = await bare_orders(session, sim, products, count)
    phases = (
        f"cart to sent {sending:.2f} s, statuses and dispatches pushed {tracking:.2f} s, receipts {receiving:.2f} s"
    )
    print(f"phases: {phases}")
    print(f"{count:,} stock orders, cart to booked receipt: {elapsed:6.2f} s  ({count / elapsed:,.1f} orders/s)")
    print(
        f"baseline, {count:,} bare order POSTs to the simulator: {baseline:6.2f} s  ({count / baseline:,.1f} orders/s)"
    )
    work = "each portal order makes 8 portal calls, a supplier order, 3 webhooks and a dispatch fetch"
    print(f"ratio: {elapsed / baseline:.1f}x ({work})")


async def bare_orders(
    session: aiohttp.ClientSession, sim: SimServer, products: list[dict[str, Any]], count: int
) -> float:
    login = sim.sim.profile.customer("10001")
    assert login is not None
    headers = {"Authorization": basic_authorization(login.username or "", login.password or "")}
    url = f"{sim.url}/api/v1/customers/10001/orders"
    started = time.perf_counter()
    for n in range(count):
        p = products[n % len(products)]
        line = {
            "lineNumber": 1,
            "productNumber": p["productNumber"],
            "containers": 1,
            "containerAmount": p["containerAmount"],
            "quantity": p["containerAmount"],
        }
        body = {"orderNumber": f"B-{n}", "orgUnit": "S1", "warehouse": {"id": "W1", "name": "W"}, "lines": [line]}
        async with session.post(url, json=body, headers={**headers, "Idempotency-Key": f"bare-{n}"}) as response:
            assert response.status == 201, await response.text()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="10,000 products and 100 orders")
    args = parser.parse_args()
    if args.quick:
        args.products, args.orders = 10_000, 100
    with tempfile.TemporaryDirectory(prefix="orderportal-bench-") as tmp:
        asyncio.run(import_catalog(args.products, Path(tmp)))
        asyncio.run(order_flow(args.orders, Path(tmp)))
    print("note: one process on a shared 2-core machine; compare the ratios, not the absolute times")


if __name__ == "__main__":
    main()
