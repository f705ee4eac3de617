"""The `orderportal` command as a user runs it: separate processes, real sockets."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from contracts.wire import basic_authorization

CLI = [sys.executable, "-m", "scenarios.command"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, input=stdin, timeout=120, env=ENV)


@pytest.fixture
def sim_process(tmp_path: Path):
    """`orderportal sim` on a free port with a SQLite file, stopped with SIGTERM."""
    db = tmp_path / "sim.db"
    command = [*CLI, "sim", "--port", "0", "--clock", "virtual", "--db", str(db), "--seed", "5"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) as process:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(8)]
        match = re.search(r"http://127\.0\.0\.1:\d+", banner[0])
        assert match, banner
        yield match.group(0), banner, process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


async def test_the_sim_command_serves_the_api_prints_its_customers_and_stops_cleanly(sim_process) -> None:
    url, banner, process = sim_process
    assert any("10001  basic" in line and "north-market" in line for line in banner)
    assert f"  dashboard:       {url}/_sim/ui\n" in banner
    headers = {"Authorization": basic_authorization("north-market", "north-demo-pass-1")}
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{url}/api/v1/customers/10001/products", params={"size": "2"}, headers=headers
        ) as response:
            assert response.status == 200 and (await response.json())["totalItems"] == 500
        async with session.post(f"{url}/_sim/clock/advance", json={"by": "1h"}) as response:
            assert (await response.json())["now"] == "2026-01-05T09:00:00.000Z"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_the_demo_walks_the_manual_and_ends_with_the_stock_levels() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "COUPLED" in lines[2] and "NEW -> PROCESSED -> ACCEPTED" in lines[10]
    assert "REJECTED (PRODUCT_INACTIVE" in lines[11]
    assert re.match(r"15\. stock levels of W1: \S+ \(.+\): \d+", lines[-1]), lines[-1]


def test_fuzz_tells_its_progress_in_plain_lines_and_keeps_its_examples_in_the_cache_folder(tmp_path: Path) -> None:
    cache, here = tmp_path / "cache", tmp_path / "here"
    here.mkdir()
    args = ["scenarios", "fuzz", "--examples", "4", "--steps", "4", "--seed", "2", "--cache-dir", str(cache)]
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=ENV, cwd=here)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"searching 4 runs of up to 4 steps, seed 2; examples kept in {cache}"
    assert lines[1:5] == [f"{n} of 4 runs" for n in range(1, 5)] and lines[-1].startswith("no invariant broke in ")
    assert "Ran 1 test" not in result.stdout and "OK" not in lines
    assert list(here.iterdir()) == [] and cache.is_dir()


def test_a_broken_profile_is_refused_with_the_field_named(tmp_path: Path) -> None:
    profile = tmp_path / "bad.yaml"
    profile.write_text("catalog:\n  size: -3\n")
    result = run("sim", "--profile", str(profile), "--port", "0")
    assert result.returncode == 1 and "/catalog/size" in result.stderr


def test_contracts_validate_exits_1_listing_every_bad_field(tmp_path: Path) -> None:
    good = {"username": "a", "password": "b"}
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps({"username": 1, "extra": True}))
    assert run("contracts", "validate", "auth-request", str(tmp_path / "good.json")).returncode == 0
    bad = run("contracts", "validate", "auth-request", str(tmp_path / "bad.json"))
    assert bad.returncode == 1
    assert "/extra" in bad.stderr and "/password" in bad.stderr and "/username" in bad.stderr
    listed = run("contracts", "list")
    assert "order-request" in listed.stdout and "webhook-event" in listed.stdout


@pytest.mark.parametrize("given", ["flag", "environment"])
@pytest.mark.parametrize(
    ("command", "variable", "told"),
    [("sim", "ORDERPORTAL_SIM_DB", "the simulator"), ("portal", "ORDERPORTAL_DB", "the portal")],
)
def test_an_unreachable_database_is_a_clear_error_that_hides_its_password(
    command: str, variable: str, told: str, given: str
) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/none"
    if given == "flag":
        result = run(command, "--port", "0", "--db", url)
    else:  # out of the process list
        env = {**ENV, variable: url}
        result = subprocess.run([*CLI, command, "--port", "0"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert f"cannot start {told}" in result.stderr and "Connect call failed" in result.stderr
    assert "127.0.0.1:1/none" in result.stderr  # the database it was given, password hidden
    assert "hunter2" not in result.stderr + result.stdout


@pytest.fixture
def portal_process(tmp_path: Path):
    """`orderportal portal` on a free port with an SQLite file, stopped with SIGTERM."""
    command = [*CLI, "portal", "--port", "0", "--db", str(tmp_path / "portal.db")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) as process:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert match, banner
        yield match.group(0), process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


async def test_the_portal_command_serves_its_api_and_stops_cleanly(portal_process, tmp_path: Path) -> None:
    url, process = portal_process
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/org-units", json={"code": "S1", "name": "Store"}) as response:
            assert response.status == 201
        async with session.get(f"{url}/api/stock-orders/1") as response:
            assert response.status == 404 and response.content_type == "application/problem+json"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert process.stdout is not None and f"  dashboard: {url}/ui\n" in process.stdout.read()
    assert (tmp_path / "portal.db").exists()


def test_the_readme_s_certify_command_certifies_the_simulator_on_the_real_clock(tmp_path: Path) -> None:
    command = [*CLI, "sim", "--port", "0", "--clock", "real", "--profile", "certification"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) as sim:
        assert sim.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", sim.stdout.readline())
        assert url
        reports = tmp_path / "reports"
        result = run(
            "certify",
            "--supplier-url",
            url.group(0),
            "--customer-number",
            "10003",
            "--auth",
            "api-key",
            "--api-key",
            "east-demo-key-3f9a27c1d8e4",
            "--other-customer-number",
            "10001",
            "--webhook-listen",
            "127.0.0.1:0",
            "--wait",
            "2m",
            "--poll",
            "1s",
            "--report-dir",
            str(reports),
        )
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CERTIFIED" in result.stdout and "PASS AUTH-04" in result.stdout and "PASS WEBHOOK-01" in result.stdout
    names = sorted(p.name for p in reports.iterdir())
    assert names == ["certification.html", "certification.json", "certification.junit.xml"]
    assert "east-demo-key-3f9a27c1d8e4" not in "".join(p.read_text() for p in reports.iterdir())
    verified = run("certify", "verify", str(reports / "certification.json"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    fingerprint = json.loads((reports / "certification.json").read_text())["signature"]["keyFingerprint"]
    assert f"is intact: signed by key fingerprint {fingerprint[:16]}" in verified.stdout


def test_certify_runs_a_selection_of_checks_as_a_partial_run_that_certifies_nothing(tmp_path: Path) -> None:
    command = [*CLI, "sim", "--port", "0", "--clock", "real"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV) as sim:
        assert sim.stdout is not None
        url = re.search(r"http://127\.0\.0\.1:\d+", sim.stdout.readline())
        assert url
        common = ["certify", "--supplier-url", url.group(0), "--customer-number", "10001", "--auth", "basic"]
        common += ["--username", "north-market", "--password", "north-demo-pass-1", "--report-dir", str(tmp_path)]
        result = run(*common, "--checks", "auth,NOTFOUND", "--exclude-checks", "AUTH-04")
        typo = run(*common, "--checks", "AUTHX")
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"PASS (\S+)", result.stdout)
    assert ran == ["AUTH-01", "AUTH-02", "AUTH-03", "NOTFOUND-01"]
    assert "PASSED (PARTIAL: 32 mandatory checks left out, not a certification)" in result.stdout
    assert json.loads((tmp_path / "certification.json").read_text())["certified"] is False
    assert typo.returncode == 2 and "no check id starts with AUTHX" in typo.stderr


def test_certify_list_checks_names_every_check_and_the_rules_it_checks() -> None:
    result = run("certify", "list-checks")
    assert result.returncode == 0, result.stderr
    assert "REJECT-01" in result.stdout and "rules: REJECT-R1, REJECT-R4" in result.stdout
    assert "AUTH-R7" in result.stdout and "not checkable from outside" in result.stdout


def test_certify_against_nothing_exits_1_naming_the_failures(tmp_path: Path) -> None:
    result = run(
        "certify",
        "--supplier-url",
        "http://127.0.0.1:1",
        "--customer-number",
        "1",
        "--auth",
        "basic",
        "--username",
        "u",
        "--password",
        "p",
        "--report-dir",
        str(tmp_path),
        "--wait",
        "0s",
    )
    assert result.returncode == 1 and "NOT CERTIFIED" in result.stdout and "FAIL AUTH-01" in result.stdout


def test_scenarios_run_says_how_many_are_done_and_left_and_the_time_so_far() -> None:
    result = run("scenarios", "run", "happy-path", "token-expiry")
    assert result.returncode == 0, result.stdout + result.stderr
    announced = re.findall(r"^\[(\d) of 2, \d+s\] (\S+)$", result.stdout, re.M)
    assert announced == [("1", "happy-path"), ("2", "token-expiry")]
    assert result.stdout.rstrip().endswith("2 passed, 0 failed")


def test_scenarios_run_quiet_prints_only_the_outcome() -> None:
    result = run("scenarios", "run", "happy-path", "--quiet")
    assert result.returncode == 0 and result.stdout.strip() == "1 passed, 0 failed", result.stdout
