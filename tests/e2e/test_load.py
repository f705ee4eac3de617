"""`orderportal load` as a user runs it: Locust in its own processes against a simulator in this one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from scenarios.drivers import SimAdmin
from supplier_sim.server import SimServer
from tests.unit.test_readme_commands import README, commands

CLI = [sys.executable, "-m", "scenarios.command"]
SECRET = "south-demo-pass-2"


async def load(*args: str, environment: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command as a child process, while this process's event loop goes on serving the simulator."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "load",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(environment or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def readme_command(url: str, out: Path) -> list[str]:
    """The README's load command, pointed at this simulator, for 3 seconds, reporting into ``out``."""
    args = shlex.split(next(c for c in commands() if c.startswith("load ")))[1:]
    given = {"--supplier-url": url, "--duration": "3s", "--users": "6", "--spawn-rate": "6", "--out": str(out)}
    return [given.get(args[i - 1], arg) if i else arg for i, arg in enumerate(args)] + ["--think", "0.05", "--quiet"]


async def test_the_readme_s_load_command_with_two_workers_breaks_no_contract_and_counts_every_order(
    sim: SimServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    out = tmp_path / "load-report"
    (password,) = set(re.findall(r"^ORDERPORTAL_LOAD_PASSWORD=(\S+) ", README, re.M))  # as the README gives it
    code, stdout, stderr = await load(
        *readme_command(sim.url, out), environment={"ORDERPORTAL_LOAD_PASSWORD": password}
    )
    assert code == 0, stdout + stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["workers"] == 2 and summary["contractViolations"] == 0, summary["errors"]
    assert summary["errorsByKind"] == {} and summary["total"]["requests"] > 50
    held = await SimAdmin.of(sim, session).orders("10002")
    assert summary["ordersCreated"] == len(held) > 0
    endpoints = set(summary["endpoints"])
    assert {"POST /auth", "POST /orders", "POST /orders (replay)", "GET /products", "GET /orders"} <= endpoints
    assert {"GET /products?updatedSince", "GET /orders/{orderId}/dispatch-notifications"} <= endpoints
    assert all(summary["endpoints"][e]["p99"] is not None for e in endpoints)
    assert {"locust.html", "locust_stats.csv", "locust_failures.csv", "summary.json"} <= {p.name for p in out.iterdir()}
    assert all(SECRET not in p.read_text(errors="replace") for p in out.iterdir())
    assert "orders created: " in stdout and SECRET not in stdout + stderr


def basic(url: str, out: Path, *extra: str) -> list[str]:
    login = ["--customer-number", "10001", "--auth", "basic", "--username", "north-market"]
    return ["--supplier-url", url, *login, "--password", "north-demo-pass-1", "--out", str(out), *extra]


async def test_one_process_seeded_load_creates_exactly_the_orders_the_simulator_holds(
    sim: SimServer, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    args = ["--users", "3", "--spawn-rate", "3", "--duration", "2s", "--think", "0.02", "--seed", "3", "--quiet"]
    code, stdout, stderr = await load(*basic(sim.url, tmp_path, *args, "--mix", "orders=1,polls=1"))
    assert code == 0, stdout + stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["contractViolations"] == 0 and summary["run"]["workers"] == 0
    assert summary["ordersCreated"] == len(await SimAdmin.of(sim, session).orders("10001")) > 0
    assert set(summary["endpoints"]) <= {"GET /products", "POST /orders", "POST /orders (replay)", "GET /orders"} | {
        "GET /orders?updatedSince"
    }


async def test_a_server_that_breaks_the_contract_fails_the_error_rate_with_the_violations_counted(
    start_sim: Any, tmp_path: Path
) -> None:
    server = await start_sim({"misbehave": {"wrongFieldType": True}})
    args = ["--users", "2", "--spawn-rate", "2", "--duration", "2s", "--think", "0.05", "--max-error-rate", "0", "-q"]
    code, stdout, stderr = await load(*basic(server.url, tmp_path, *args))
    assert code == 1, stdout + stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["contractViolations"] > 0 and summary["errorsByKind"]["contract"] == summary["contractViolations"]
    violation = next(e for e in summary["errors"] if e["kind"] == "contract")
    assert violation["endpoint"] == "GET /products"
    assert "/items/0/containerAmount: must be of type integer" in violation["error"]
    assert "FAILED: error rate" in stderr and "failures of kind contract" in stdout
    assert summary["thresholds"]["broken"] and summary["total"]["failures"] >= summary["contractViolations"]


async def test_an_unreachable_server_refused_credentials_and_a_bad_mix_are_told_before_any_load(
    sim: SimServer, tmp_path: Path
) -> None:
    code, _, stderr = await load(*basic("http://127.0.0.1:1", tmp_path))
    assert code == 1 and "cannot reach http://127.0.0.1:1" in stderr
    args = basic(sim.url, tmp_path)
    args[args.index("north-demo-pass-1")] = "wrong-pass"
    code, _, stderr = await load(*args)
    assert code == 1 and "refused the credentials of customer 10001: it answered 401" in stderr
    assert "wrong-pass" not in stderr
    code, _, stderr = await load(*basic(sim.url, tmp_path, "--mix", "orders=2,shopping=1"))
    assert code == 2 and "'shopping' is not an activity" in stderr
    assert not (tmp_path / "summary.json").exists()


async def test_a_sigterm_stops_the_load_with_every_locust_process(sim: SimServer, session, tmp_path: Path) -> None:
    args = ["--users", "4", "--spawn-rate", "4", "--duration", "60s", "--think", "0.05", "--workers", "1", "-q"]
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "load",
        *basic(sim.url, tmp_path, *args),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    admin = SimAdmin.of(sim, session)
    async with asyncio.timeout(30):  # until the load arrives
        while not await admin.orders("10001"):  # noqa: ASYNC110 - the load is another process's: no event here
            await asyncio.sleep(0.1)
    process.terminate()  # as a cancelled CI job does
    assert await asyncio.wait_for(process.wait(), timeout=30) == 128 + signal.SIGTERM
    seen = (await sim.admin(session, "GET", "journal", params={"limit": "1"}))["lastSeq"]
    await asyncio.sleep(1.5)  # a Locust process left behind would go on sending, with a think time of 0.05 s
    assert (await sim.admin(session, "GET", "journal", params={"limit": "1"}))["lastSeq"] == seen


async def test_orders_made_by_answers_that_fail_a_check_are_still_counted_as_created(
    start_sim: Any, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """A server that makes a new order for each resend fails the resends' checks, but those orders exist."""
    server = await start_sim({"misbehave": {"duplicateOnReplay": True}})
    args = ["--users", "2", "--spawn-rate", "2", "--duration", "2s", "--think", "0.02", "--mix", "orders=1", "-q"]
    code, stdout, stderr = await load(*basic(server.url, tmp_path, *args))
    assert code == 0, stdout + stderr  # no threshold was given, and no answer broke the contract
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["endpoints"]["POST /orders (replay)"]["failures"] > 0, summary["errors"]
    held = await SimAdmin.of(server, session).orders("10001")
    assert summary["ordersCreated"] == len(held) > summary["endpoints"]["POST /orders"]["requests"]
