"""Orders per second from `orderportal sim --workers N` on PostgreSQL, for 1 and 2 workers, and their ratio.

Run as ``.venv/bin/python bench/bench_sim_workers.py --db postgresql://root@127.0.0.1:5432/wtf``
(``--quick`` for 3 s runs). The simulator's tables in that database are dropped before each run.
wrk POSTs 5-line orders, each with a new Idempotency-Key, on one thread; it shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import orjson
from bench_sim import order_body
from supplier_api import ORDERS_PATH, PAGE_QUERY, PRODUCTS_PATH, http
from wrk import WrkResult, run_wrk, write_lua

from supplier_sim import db as tables
from supplier_sim.cluster import ORDER_IDS, plain_dsn


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL URL; its sim_* tables are dropped")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (1 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds first (2)")
    parser.add_argument("--quick", action="store_true", help="3 s runs")
    args = parser.parse_args()
    if args.quick:
        args.duration = 3
    return args


async def drop_tables(url: str) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        for table in reversed(tables.metadata.sorted_tables):
            await conn.execute(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
        await conn.execute(f"DROP SEQUENCE IF EXISTS {ORDER_IDS}")
    finally:
        await conn.close()


async def stored_orders(url: str) -> int:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM sim_orders"))
    finally:
        await conn.close()


@contextlib.contextmanager
def simulator(url: str, workers: int, log: Path) -> Iterator[str]:
    """`orderportal sim --workers N` until the block ends; its URL once every worker serves."""
    command = [sys.executable, "-m", "scenarios.command", "sim", "--workers", str(workers), "--port", "0"]
    command += ["--clock", "virtual", "--db", url]
    with log.open("wb") as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not lines or "workers sharing" not in lines[-1]:
            line = proc.stdout.readline().decode()  # "" once it exits
            if not line:
                raise RuntimeError(f"the simulator did not start:\n{log.read_text(errors='replace')}")
            lines.append(line)
        yield lines[0].split()[3]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def measure(args: argparse.Namespace, workers: int, tmp: Path) -> tuple[WrkResult, int]:
    asyncio.run(drop_tables(args.db))
    with simulator(args.db, workers, tmp / f"sim-{workers}.log") as url:
        _, page = http(url + PRODUCTS_PATH + PAGE_QUERY)
        lua = write_lua(f"order-{workers}", order_body(orjson.loads(page)["items"], 5), tmp)
        run_id = secrets.token_hex(4)
        run_wrk(args, url + ORDERS_PATH, lua, f"{run_id}-warm", args.warmup)
        result = run_wrk(args, url + ORDERS_PATH, lua, run_id, args.duration)
        return result, asyncio.run(stored_orders(args.db))


def main() -> int:
    args = parse_args()
    results: dict[int, WrkResult] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sim-workers-") as tmp:
        for workers in args.workers:
            result, stored = measure(args, workers, Path(tmp))
            results[workers] = result
            print(
                f"{workers} worker(s): {result.rps:8.0f} orders/s  p99 {result.p99_ms:6.1f} ms"
                f"  non-2xx {result.non_2xx}  socket errors {result.socket_errors}  orders stored {stored}"
            )
    first = results[args.workers[0]].rps
    for workers in args.workers[1:]:
        print(f"ratio {workers} / {args.workers[0]} workers: {results[workers].rps / first:.2f}x")
    print(f"on {os.cpu_count()} cores, wrk included, {args.connections} connections, {args.duration} s per run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
