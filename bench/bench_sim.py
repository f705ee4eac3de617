"""Load-test the supplier simulator with wrk, side by side with a bare aiohttp baseline.

Run as ``.venv/bin/python bench/bench_sim.py`` (``--quick`` for 3 s runs; ``--dashboard`` for what an
open dashboard costs the products page). The simulator and
the baseline each run in a child process on a free 127.0.0.1 port; wrk alternates between them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from dashboard_cost import measure_dashboard
from processes import Child, start_child
from supplier_api import ORDERS_PATH, PAGE_QUERY, PRODUCTS_PATH, http
from wrk import WrkResult, run_wrk, write_lua

BASELINE = "baseline"
PRODUCTS_TARGET_RPS = 8000.0
ORDERS_TARGET_RPS = 1000.0
ORDERS_TARGET_P99_MS = 50.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """One request shape: a GET of the products page, or a POST of an order body."""

    name: str
    path: str
    order: bytes | None = None

    @property
    def is_order(self) -> bool:
        return self.order is not None


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a scenario on one server, medians over the rounds."""

    scenario: Scenario
    server: str
    rps: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    answered: int  # 2xx answers in all, warm-up and check included


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--quick", action="store_true", help="3 s runs")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds first (1)")
    parser.add_argument("--rounds", type=int, default=1, help="alternations; medians are shown (1)")
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help="only the products page, without and then with a dashboard following the simulator, and their ratio",
    )
    parser.add_argument("--catalog-size", type=int, default=1000, help="products (1000)")
    parser.add_argument(
        "--db",
        choices=("file", "memory", "both"),
        default="file",
        help="simulator database: a temp SQLite file, in-memory SQLite, or both as two servers",
    )
    args = parser.parse_args()
    if args.quick:
        args.duration = 3
    return args


def start_servers(args: argparse.Namespace, tmp: Path, stack: contextlib.ExitStack) -> list[Child]:
    """The simulator(s), then the baseline that copies the simulator's products page."""
    databases = {"file": ["file"], "memory": ["memory"], "both": ["file", "memory"]}[args.db]
    children = []
    for kind in databases:
        db_url = "sqlite+aiosqlite:///" + str(tmp / "sim.db") if kind == "file" else "sqlite+aiosqlite://"
        label = f"sim (sqlite {kind})"
        argv = [db_url, str(args.catalog_size)]
        children.append(start_child(label, "serve_sim", argv, tmp / f"sim-{kind}.log", stack))
    argv = [children[0].url]
    baseline = start_child(BASELINE, "serve_baseline", argv, tmp / "baseline.log", stack)
    for child in [*children, baseline]:
        print(f"  {child.label}: {child.url} (pid {child.proc.pid})")
    return [*children, baseline]


def order_body(products: list[dict[str, Any]], lines: int) -> bytes:
    """An order of ``lines`` active catalog products, each quantity = containers x amount."""
    active = [p for p in products if p["active"]][:lines]
    if len(active) < lines:
        raise RuntimeError(f"the first products page has {len(active)} active products, {lines} needed")
    return orjson.dumps(
        {
            "orderNumber": f"BENCH-{lines}",
            "orgUnit": "store-1",
            "warehouse": {"id": "W1", "name": "Main"},
            "lines": [
                {
                    "lineNumber": number,
                    "productNumber": product["productNumber"],
                    "containers": 1 + number % 3,
                    "containerAmount": product["containerAmount"],
                    "quantity": (1 + number % 3) * product["containerAmount"],
                }
                for number, product in enumerate(active, start=1)
            ],
        }
    )


def scenarios(sim_url: str) -> list[Scenario]:
    """Products page, then 5- and 20-line orders built from the simulator's own catalog."""
    _, page = http(sim_url + PRODUCTS_PATH + PAGE_QUERY)
    products = orjson.loads(page)["items"]
    return [
        Scenario("products page", PRODUCTS_PATH + PAGE_QUERY),
        Scenario("order 5 lines", ORDERS_PATH, order_body(products, 5)),
        Scenario("order 20 lines", ORDERS_PATH, order_body(products, 20)),
    ]


def check_once(scenario: Scenario, child: Child, run_id: str) -> None:
    """One request before the load: 200 for the page, 201 for an order; raise otherwise."""
    url = child.url + scenario.path
    key = f"{run_id}-check-{secrets.token_hex(4)}" if scenario.is_order else None
    status, _ = http(url, scenario.order, key)
    expected = 201 if scenario.is_order else 200
    if status != expected:
        raise RuntimeError(f"{child.label}: {scenario.name} answered {status}, expected {expected}")


def measure(
    args: argparse.Namespace,
    scenario: Scenario,
    servers: list[Child],
    lua: Path | None,
    run_id: str,
) -> list[Row]:
    """Warm up each server, then alternate wrk runs between them; a row of medians each."""
    results: dict[str, list[WrkResult]] = {child.label: [] for child in servers}
    answered = {child.label: 1 for child in servers}  # the check request
    for child in servers:
        check_once(scenario, child, run_id)
        if args.warmup > 0:
            prefix = f"{run_id}-warm-{secrets.token_hex(3)}"
            warm = run_wrk(args, child.url + scenario.path, lua, prefix, args.warmup)
            answered[child.label] += warm.requests - warm.non_2xx
            if warm.non_2xx or warm.socket_errors:
                print(
                    f"  warning: warm-up on {child.label}: {warm.non_2xx} non-2xx, {warm.socket_errors} socket errors"
                )
    for round_number in range(args.rounds):
        for child in servers:
            prefix = f"{run_id}-{round_number}-{secrets.token_hex(3)}"
            result = run_wrk(args, child.url + scenario.path, lua, prefix, args.duration)
            print(
                f"  {scenario.name:<15} {child.label:<19} {result.rps:>9.1f} req/s  "
                f"p99 {result.p99_ms:7.2f} ms  non-2xx {result.non_2xx}  "
                f"socket errors {result.socket_errors}"
            )
            results[child.label].append(result)
            answered[child.label] += result.requests - result.non_2xx
    return [row_of(scenario, label, runs, answered[label]) for label, runs in results.items()]


def row_of(scenario: Scenario, server: str, runs: list[WrkResult], answered: int) -> Row:
    """Medians of the rounds' rates and p99s; error counts added up."""
    return Row(
        scenario,
        server,
        rps=statistics.median(r.rps for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        answered=answered,
    )


def print_table(rows: list[Row]) -> None:
    """Each scenario's servers side by side, with sim/baseline ratios of rate and p99."""
    header = (
        f"{'scenario':<15} {'server':<19} {'req/s':>9} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'sock err':>8} {'req/s ratio':>11} {'p99 ratio':>9}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        base = next(r for r in rows if r.scenario == row.scenario and r.server == BASELINE)
        rate = f"{row.rps / base.rps:.2f}x" if row.server != BASELINE else "-"
        p99 = f"{row.p99_ms / base.p99_ms:.2f}x" if row.server != BASELINE else "-"
        print(
            f"{row.scenario.name:<15} {row.server:<19} {row.rps:>9.1f} {row.p99_ms:>8.2f} "
            f"{row.non_2xx:>8} {row.socket_errors:>8} {rate:>11} {p99:>9}"
        )


def print_targets(rows: list[Row]) -> None:
    """Each simulator row against its target."""
    print(
        f"\ntargets: products page >= {PRODUCTS_TARGET_RPS:.0f} req/s; "
        f"order creation >= {ORDERS_TARGET_RPS:.0f} req/s with p99 < {ORDERS_TARGET_P99_MS:.0f} ms"
    )
    for row in rows:
        if row.server == BASELINE:
            continue
        if row.scenario.is_order:
            met = row.rps >= ORDERS_TARGET_RPS and row.p99_ms < ORDERS_TARGET_P99_MS
        else:
            met = row.rps >= PRODUCTS_TARGET_RPS
        verdict = "met" if met else "MISSED"
        print(f"  {row.scenario.name:<15} {row.server:<19} {row.rps:>9.1f} req/s  p99 {row.p99_ms:6.2f} ms  {verdict}")


def report_sim_state(servers: list[Child], rows: list[Row]) -> bool:
    """Orders stored per simulator, and what its stderr holds; False if anything is off."""
    clean = not any(r.non_2xx or r.socket_errors for r in rows)
    for child in servers:
        if child.label == BASELINE:
            continue
        _, page = http(child.url + ORDERS_PATH + "?page=1&size=1")
        stored = orjson.loads(page)["totalItems"]
        sent = sum(r.answered for r in rows if r.server == child.label and r.scenario.is_order)
        # Every request has a new key, so every 2xx made an order (more may land after wrk stops).
        verdict = "ok" if stored >= sent else "FEWER: keys were reused"
        clean = clean and stored >= sent
        print(f"\n{child.label}: {stored} orders stored, {sent} order 2xx answers counted: {verdict}")
        log = child.log.read_text(errors="replace").strip()
        if log:
            clean = False
            lines = log.splitlines()
            print(f"{child.label}: stderr has {len(lines)} lines; the last 20:")
            print("\n".join("    " + line for line in lines[-20:]))
        else:
            print(f"{child.label}: stderr is empty")
    return clean


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so that the children and the temp dir are cleaned up."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def workspace() -> Iterator[tuple[Path, contextlib.ExitStack]]:
    """A temp dir and an exit stack for the children, both undone on any exit."""
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp, contextlib.ExitStack() as stack:
        yield Path(tmp), stack


def main() -> int:
    """Start the servers, run every scenario on each, print the table; 1 if anything failed."""
    args = parse_args()
    if shutil.which("wrk") is None:
        print("install wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    run_id = secrets.token_hex(4)
    print(
        f"nproc {len(os.sched_getaffinity(0))}; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s --latency; catalog {args.catalog_size} products; run {run_id}"
    )
    try:
        with workspace() as (tmp, stack):
            servers = start_servers(args, tmp, stack)
            if args.dashboard:
                measure_dashboard(args, servers[0], run_id, max(args.rounds, 3))
                return 0 if report_sim_state(servers[:1], []) else 1
            rows: list[Row] = []
            for scenario in scenarios(servers[0].url):
                lua = write_lua(scenario.name, scenario.order, tmp) if scenario.order is not None else None
                rows += measure(args, scenario, servers, lua, run_id)
            print_table(rows)
            print_targets(rows)
            clean = report_sim_state(servers, rows)
    except KeyboardInterrupt:
        print("\ninterrupted; child processes stopped", file=sys.stderr)
        return 130
    print(
        "\nnote: figures are from a shared, noisy machine where wrk and the server compete "
        "for the same cores; compare ratios to the baseline rather than absolute rates."
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
