"""`orderportal load`: Locust's engine, run in its own processes, against any Supplier API v1 server.

Locust runs on gevent and monkey-patches the standard library as it is imported, so this process
(asyncio, like every other command) never imports it: it starts Locust as child processes with
scenarios/load/locustfile.py, then reads Locust's CSV files into the JSON summary.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
import click

from scenarios.certify.recorder import Credentials, Recorder
from scenarios.load.plan import API_KEY_ENV, DEFAULT_MIX, FINAL_SUFFIX, PASSWORD_ENV, Plan, parse_mix
from scenarios.load.summary import broken, summarise
from scenarios.supplier_options import supplier_login, supplier_options
from supplier_sim.profile import seconds

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PLAN_OPTION = "--orderportal-plan"  # declared in the locustfile, which this process must not import
REFUSED = (401, 403)


@click.command("load", context_settings={"help_option_names": ["-h", "--help"]})
@supplier_options("ORDERPORTAL_LOAD")
@click.option("--users", type=click.IntRange(1), default=10, show_default=True, help="Retailers sending at once.")
@click.option("--spawn-rate", type=click.FloatRange(min=0, min_open=True), default=10, show_default=True)
@click.option("--duration", default="1m", show_default=True, help="How long the load runs: 30s, 5m, 1h.")
@click.option("--workers", type=click.IntRange(0), default=0, show_default=True, help="Local Locust workers (0: one).")
@click.option("--remote-workers", type=click.IntRange(0), default=0, help="Workers on other machines to wait for.")
@click.option("--master-bind-host", default="*", show_default=True, help="Where the master listens for remote workers.")
@click.option("--master-port", type=click.IntRange(1, 65535), default=5557, show_default=True)
@click.option("--mix", default=DEFAULT_MIX, show_default=True, help="The weight of each activity.")
@click.option(
    "--think", "think_s", type=click.FloatRange(0), default=0.5, show_default=True, help="Max seconds between"
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of every choice the users make.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("load-report"), show_default=True)
@click.option("--max-p99", type=click.FloatRange(0), help="Exit 1 when the p99 of all requests is over this, in ms.")
@click.option("--max-error-rate", type=click.FloatRange(0, 1), help="Exit 1 when failures / requests is over this.")
@click.option("--quiet", "-q", is_flag=True, help="Locust's summary only, not its table every few seconds.")
def load(
    supplier_url: str | None,
    customer_number: str | None,
    method: str | None,
    username: str | None,
    password: str | None,
    api_key: str | None,
    users: int,
    spawn_rate: float,
    duration: str,
    workers: int,
    remote_workers: int,
    master_bind_host: str,
    master_port: int,
    mix: str,
    think_s: float,
    seed: int,
    timeout_s: float,
    out: Path,
    max_p99: float | None,
    max_error_rate: float | None,
    quiet: bool,
) -> None:
    """Load a supplier's Supplier API v1 server with retailer traffic; exit 1 when a threshold breaks.

    Reports in --out: Locust's CSV files and HTML report, and summary.json.
    """
    url, customer, credentials = supplier_login(
        "load", supplier_url, customer_number, method, username, password, api_key
    )
    try:
        run_s = seconds(duration)
        weights = parse_mix(mix)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    run_id = f"{seed}-{secrets.token_hex(3)}"  # this run's order numbers and keys, apart from any earlier run's
    plan = Plan(url, customer, credentials.method, credentials.username, weights, seed, run_id, think_s, timeout_s)
    asyncio.run(_preflight(url, customer, credentials, timeout_s))
    out.mkdir(parents=True, exist_ok=True)
    options = [*_locust_options(plan, users, spawn_rate, run_s, out), *(["--only-summary"] if quiet else [])]
    distributed = workers + remote_workers
    port = master_port if remote_workers else _free_port()
    if distributed:
        wait = 600 if remote_workers else 30
        options += ["--master", "--expect-workers", str(distributed), "--expect-workers-max-wait", str(wait)]
        host = master_bind_host if remote_workers else "127.0.0.1"  # local workers only: no port open to others
        options += ["--master-bind-host", host, "--master-bind-port", str(port)]
    environment = {**os.environ, PASSWORD_ENV: credentials.password or "", API_KEY_ENV: credentials.api_key or ""}
    _run_locust(options, workers, port, out, environment)
    summary = summarise(out / "locust")
    summary["run"] = {
        "supplierUrl": url,
        "customer": customer,
        "auth": credentials.method,
        "users": users,
        "spawnRate": spawn_rate,
        "durationSeconds": run_s,
        "workers": workers,
        "remoteWorkers": remote_workers,
        "mix": weights,
        "seed": seed,
        "runId": plan.run_id,
    }
    failed = broken(summary, max_p99, max_error_rate)
    summary["thresholds"] = {"maxP99": max_p99, "maxErrorRate": max_error_rate, "broken": failed}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    _tell(summary, out)
    for reason in failed:
        click.echo(f"FAILED: {reason}", err=True)
    sys.exit(1 if failed else 0)


async def _preflight(url: str, customer: str, credentials: Credentials, timeout_s: float) -> None:
    """One product read before any load: an unreachable server or refused credentials is told at once."""
    async with aiohttp.ClientSession() as session:
        recorder = Recorder(session, url, customer, credentials, timeout_s)
        exchange = await recorder.call("GET", "/products", params={"size": "1"})
    if exchange.status is None:
        raise click.ClickException(f"cannot reach {url}: {exchange.error}")
    if exchange.status in REFUSED:
        raise click.ClickException(
            f"{url} refused the credentials of customer {customer}: it answered {exchange.status}"
        )


def _locust_options(plan: Plan, users: int, spawn_rate: float, run_s: float, out: Path) -> list[str]:
    # A user finishes the task it is in when the time is up: an order sent is an order counted.
    grace = math.ceil(plan.timeout_s * (plan.burst[1] + 2))
    return [
        *("-f", str(LOCUSTFILE), "--host", plan.supplier_url, PLAN_OPTION, plan.to_json(), "--headless"),
        *("-u", str(users), "-r", f"{spawn_rate:g}", "-t", f"{max(1, round(run_s))}s", "--stop-timeout", str(grace)),
        *("--csv", str(out / "locust"), "--html", str(out / "locust.html")),
    ]


def _run_locust(options: list[str], workers: int, port: int, out: Path, environment: dict[str, str]) -> None:
    """The master (or the only process) in the foreground; each local worker logs to its own file.

    A SIGTERM or SIGHUP (a cancelled CI job) stops the load too: it ends this process through its ``finally``
    blocks, which stop Locust's processes, rather than leaving them to load the server on their own.
    """
    previous = {sig: signal.signal(sig, _exit_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        _run_processes(options, workers, port, out, environment)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run_processes(options: list[str], workers: int, port: int, out: Path, environment: dict[str, str]) -> None:
    locust = [sys.executable, "-m", "locust"]
    worker = [*locust, "-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    with ExitStack() as stack:
        started: list[subprocess.Popen[Any]] = []
        for index in range(workers):
            log = stack.enter_context((out / f"worker-{index + 1}.log").open("w"))
            started.append(subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT, env=environment))
        try:
            master = subprocess.run([*locust, *options], env=environment, check=False)
        finally:
            for process in started:
                if process.poll() is None:
                    process.terminate()
            for process in started:
                process.wait(timeout=30)
    if not (out / f"locust{FINAL_SUFFIX}").exists():
        raise click.ClickException(f"Locust stopped with exit code {master.returncode} before writing its statistics")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tell(summary: dict[str, Any], out: Path) -> None:
    """Per endpoint: requests, requests/s, failures, p50/p95/p99; then the failures by kind and the files."""
    click.echo(f"{'endpoint':<50} {'requests':>9} {'req/s':>8} {'fails':>6} {'p50':>7} {'p95':>7} {'p99':>7}")
    for name, figures in [*summary["endpoints"].items(), ("all", summary["total"])]:
        cuts = " ".join(f"{figures[p]:>7g}" if figures[p] is not None else f"{'-':>7}" for p in ("p50", "p95", "p99"))
        click.echo(
            f"{name:<50} {figures['requests']:>9} {figures['requestsPerSecond']:>8g} {figures['failures']:>6} {cuts}"
        )
    for kind, count in sorted(summary["errorsByKind"].items()):
        click.echo(f"failures of kind {kind}: {count}")
    for error in summary["errors"][:10]:
        click.echo(f"  {error['occurrences']:>6} x {error['endpoint']}: {error['error']}")
    click.echo(f"orders created: {summary['ordersCreated']}; contract violations: {summary['contractViolations']}")
    for name in ("summary.json", "locust.html", "locust_stats.csv", "locust_failures.csv"):
        click.echo(f"report: {out / name}")
