"""Portal benchmarks: importing a large catalog, and stock orders from cart to booked receipt.

Run as ``.venv/bin/python bench/bench_portal.py`` (``--quick`` for a small run). The simulator,
the portal and this client share one process and one event loop: the figures are for the whole
harness on one core, each beside a baseline measured in the same run. The import's bare insert runs
once more in a process of its own (bench/bare_sqlite.py), as a second baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from bare_sqlite import bare_insert

from contracts import contracts
from contracts.wire import basic_authorization
from portal.bootstrap import PortalServer
from portal.entrypoints.collector import collector_paused
from scenarios.drivers import Login, PortalClient, ShopNames, SimAdmin, set_up_shop
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile

FAST = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


HERE = Path(__file__).resolve().parent
NAMES = ShopNames("S1", "Store", "W1", "Warehouse", "Sim")


async def supplier_pages(session: aiohttp.ClientSession, sim: SimAdmin, login: Login) -> list[bytes]:
    """The whole catalog as a customer pages it from the Supplier API: each page's body."""
    headers = {"Authorization": basic_authorization(login.username or "", login.password or "")}
    url = f"{sim.url}/api/v1/customers/{login.number}/products"
    pages: list[bytes] = []
    while True:
        query = {"page": str(len(pages) + 1), "size": "1000"}
        async with session.get(url, params=query, headers=headers) as response:
            pages.append(await response.read())
        if len(pages) >= orjson.loads(pages[-1])["totalPages"]:
            return pages


def read_and_check(pages: list[bytes]) -> tuple[float, float]:
    """The seconds that decoding the pages and checking them against the contract took, page by page
    as an import does.

    Every import pays both, whatever it does next: with the bare insert, they are the floor under its ratio.
    The cyclic collector is paused, as it is while the portal imports.
    """
    decoding = checking = 0.0
    with collector_paused():
        for body in pages:
            started = time.perf_counter()
            page = orjson.loads(body)
            decoded = time.perf_counter()
            assert not contracts().errors("product-page", page)
            checking += time.perf_counter() - decoded
            decoding += decoded - started
    return decoding, checking


async def import_catalog(size: int, rounds: int, tmp: Path) -> None:
    """Each round, a fresh portal imports the whole list and the bare insert writes the same rows to a
    fresh file; the medians and the median of the rounds' ratios are shown, as this machine is shared."""
    profile = parse_profile({"catalog": {"size": size, "changes": []}}, base=None)
    async with SimServer(SimConfig(profile=profile)) as sim, aiohttp.ClientSession() as session:
        admin = SimAdmin.of(sim, session)
        imports, bares = [], []
        for n in range(1, rounds + 1):  # each round has a portal, a database and a bare file of its own
            imports.append(await import_once(session, admin, tmp / f"import-{n}.db", size))
            pages = await supplier_pages(session, admin, await admin.credentials("10001"))
            # The baseline's rows as they always came: each page read by the standard library's json.
            bares.append(bare_insert([p for page in pages for p in json.loads(page)["items"]], tmp / f"bare-{n}.db"))
        decoding, checking = read_and_check(pages)
        apart = bare_insert_apart(pages, tmp)
    elapsed, baseline = statistics.median(imports), statistics.median(bares)
    ratio = statistics.median(i / b for i, b in zip(imports, bares, strict=True))
    each = f", median of {rounds} rounds" if rounds > 1 else ""
    print(f"import {size:,} products through the portal: {elapsed:6.2f} s  ({size / elapsed:,.0f} products/s{each})")
    print(f"bare SQLite executemany of the same rows:   {baseline:6.2f} s  ({size / baseline:,.0f} rows/s{each})")
    extra = f"the portal also fetches {len(pages)} pages over HTTP and checks each"
    if rounds > 1:
        extra += "; by round: " + " ".join(f"{i / b:.2f}" for i, b in zip(imports, bares, strict=True))
    print(f"ratio portal / bare: {ratio:.2f}x ({extra})")
    # The baseline above ran beside the simulator's and the portal's heap; this one in a process of its own.
    print(
        f"the bare insert again, in a fresh process of its own: {apart:.2f} s; "
        f"the import is {elapsed / apart:.2f}x that"
    )
    floor = (decoding + checking + baseline) / baseline
    print(
        f"of it, decoding the same pages took {decoding:.2f} s and checking them against the contract "
        f"{checking:.2f} s: with the bare insert, a floor of {floor:.1f}x"
    )


def bare_insert_apart(pages: list[bytes], tmp: Path) -> float:
    """The bare insert of the same rows, timed in a new Python process that imports nothing else."""
    (tmp / "pages.jsonl").write_bytes(b"\n".join(pages))  # the simulator writes JSON with orjson: no raw newline
    argv = [sys.executable, str(HERE / "bare_sqlite.py"), str(tmp / "pages.jsonl"), str(tmp / "bare-apart.db")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the bare insert in a process of its own failed:\n{done.stderr}")
    return float(done.stdout)


async def import_once(session: aiohttp.ClientSession, admin: SimAdmin, db: Path, size: int) -> float:
    """The seconds a fresh portal takes to import the simulator's whole list."""
    async with PortalServer(db_url=str(db), webhooks=False, sync_interval_s=None) as portal:
        api = PortalClient(session, portal.url)
        shop = await set_up_shop(api, admin, "10001", names=NAMES)
        started = time.perf_counter()
        done = await api.open(shop.supplier["id"], shop.house["id"])
        elapsed = time.perf_counter() - started
    assert done["fetched"] == size, done
    return elapsed


async def order_flow(count: int, tmp: Path) -> None:
    profile = parse_profile({**FAST, "catalog": {"size": 200, "changes": []}}, base=None)
    async with (
        SimServer(SimConfig(profile=profile)) as sim,
        PortalServer(db_url=str(tmp / "flow.db"), sync_interval_s=None) as portal,
        aiohttp.ClientSession() as session,
    ):
        api, admin = PortalClient(session, portal.url), SimAdmin.of(sim, session)
        shop = await set_up_shop(api, admin, "10001", names=NAMES)
        await api.open(shop.supplier["id"], shop.house["id"])
        products = [p for p in await api.products(shop.supplier["id"]) if p["active"]]
        started = time.perf_counter()
        ids = []
        for n in range(count):
            await api.put_in_cart(shop.cart, products[n % len(products)]["productNumber"], 1 + n % 5)
            await api.update_products(shop.cart)
            order = await api.create_stock_orders(shop.cart)
            await api.book(order["id"])
            await api.send(order["id"])
            ids.append(order["id"])
            if (n + 1) % max(1, count // 10) == 0:
                print(f"  {n + 1} of {count} sent", flush=True)
        sending = time.perf_counter() - started
        await admin.advance("1h")
        tracking = time.perf_counter() - started - sending
        for order_id in ids:
            notes = await api.dispatch_notifications(order_id)
            receipt = await api.receive(notes[0]["id"])
            await api.book_receipt(receipt["id"])
        elapsed = time.perf_counter() - started
        receiving = elapsed - sending - tracking
        baseline = await bare_orders(session, sim, await admin.credentials("10001"), products, count)
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
    session: aiohttp.ClientSession, sim: SimServer, login: Login, products: list[dict[str, Any]], count: int
) -> float:
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
    parser.add_argument("--only", choices=("import", "orders"), help="run one of the two benchmarks")
    parser.add_argument(
        "--rounds", type=int, default=3, help="imports, each beside a bare insert; medians are shown (3)"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    if args.quick:
        args.products, args.orders = 10_000, 100
    with tempfile.TemporaryDirectory(prefix="orderportal-bench-") as tmp:
        if args.only != "orders":
            asyncio.run(import_catalog(args.products, args.rounds, Path(tmp)))
        if args.only != "import":
            asyncio.run(order_flow(args.orders, Path(tmp)))
    print("note: one process on a shared 2-core machine; compare the ratios, not the absolute times")


if __name__ == "__main__":
    main()
