"""Every bundled scenario is a test case; the runner catches a scenario whose expectation does not hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from contracts import CONTRACT_VERSION
from scenarios.reporting import console, write_html, write_json, write_junit
from scenarios.runner import ScenarioFinished, StepFinished, bundled, harness_version, load, run

SCENARIOS = bundled()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_the_bundled_scenario_passes(scenario) -> None:
    result = await run(scenario, lambda event: None)
    failed = next((s for s in result.steps if not s.ok), None)
    assert result.ok, (
        f"step {failed.index} {failed.action}: expected {failed.expected}, found {failed.found}; {result.reproduce}"
    )


def test_the_library_covers_what_qa_needs() -> None:
    required = {
        "happy-path",
        "every-rejection-reason",
        "partial-dispatch",
        "short-shipment",
        "cart-merge",
        "delta-catalog-sync",
        "token-expiry",
        "webhook-duplicates-and-order",
        "polling-only",
        "precasted-cannot-send",
        "uncoupled-cannot-send",
        "two-org-units",
    }
    assert required <= {s.name for s in SCENARIOS}


async def test_a_wrong_expectation_fails_its_step_with_evidence_and_the_command_to_reproduce() -> None:
    text = """
name: wrong
steps:
  - couple: {customer: '10001'}
  - open: {expect: {fetched: 41}}
  - cart: {lines: [{product: 0, containers: 1}]}
"""
    wrong = load("wrong.yaml", text)
    seen: list = []
    result: ScenarioFinished = await run(wrong, seen.append)
    assert not result.ok and [s.ok for s in result.steps] == [True, False]
    assert result.steps[1].expected == "fetched 41" and result.steps[1].found == "40"
    assert result.steps[0].summary.startswith("customer number 10001") and result.not_run == ["cart"]
    assert result.reproduce == "orderportal scenarios run --file wrong.yaml" and isinstance(seen[-1], ScenarioFinished)


def test_a_scenario_that_breaks_its_contract_names_the_field() -> None:
    with pytest.raises(ValueError, match="/steps/0/teleport"):
        load("bad.yaml", "name: bad\nsteps:\n  - teleport: {to: mars}\n")


async def test_a_passing_scenario_keeps_what_it_provoked_the_apps_to_log_off_the_console(caplog) -> None:
    provoking = next(s for s in SCENARIOS if s.name == "webhook-duplicates-and-order")  # an illegal move, on purpose
    result = await run(provoking, lambda event: None)
    assert result.ok and not [r.getMessage() for r in caplog.records if r.name.startswith(("portal", "supplier_sim"))]


async def test_a_failed_step_carries_the_log_lines_it_caused() -> None:
    text = """
name: unlogged
steps:
  - couple: {customer: '10001'}
  - open: {}
  - cart: {lines: [{product: 0, containers: 1}]}
  - update_products: {}
  - create: {as: order}
  - book: {order: order}
  - send: {order: order}
  - webhook: {order: order, eventId: e-1, previous: PROCESSED, status: ACCEPTED}
  - webhook: {order: order, eventId: e-2, previous: ACCEPTED, status: PROCESSED, expect: {result: applied}}
"""
    result = await run(load("unlogged.yaml", text), lambda event: None)
    failed = result.steps[-1]
    assert not failed.ok and failed.action == "webhook"
    assert any("broke the contract (illegal-status)" in line for line in failed.logs), failed.logs
    assert not any(step.logs for step in result.steps[:-1])


def finished_run() -> ScenarioFinished:
    steps = [
        StepFinished("walk", 1, "couple", True, 12.4, summary="customer number 10001 (BASIC): COUPLED"),
        StepFinished("walk", 2, "open", False, 30.6, "fetched 41", "40", [], ["WARNING portal.api: odd"]),
    ]
    return ScenarioFinished(
        "walk", False, steps, 50.2, "orderportal scenarios run walk", 7, "0.1.0", "1.0.0", "", ["cart", "create"]
    )


def test_the_html_report_numbers_each_step_once_with_its_duration_the_seed_and_the_versions(tmp_path: Path) -> None:
    write_html([finished_run()], tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text()
    rows = re.findall(r'<tr data-step="(\d+)"', page)
    assert rows == ["1", "2", "3", "4"] and "12 ms" in page and "31 ms" in page
    assert "customer number 10001 (BASIC): COUPLED" in page and page.count('class="badge v-skipped">skipped') == 2
    assert "<dd>7</dd>" in page and "harness 0.1.0" in page and "version 1.0.0" in page
    assert "WARNING portal.api: odd" in page


def test_a_failing_html_report_shows_the_verdict_each_scenario_and_the_failure_with_values_escaped(
    tmp_path: Path,
) -> None:
    hostile = StepFinished("evil", 1, "couple", False, 3.0, "status 200", "<script>alert(1)</script>", [{"x": "<b>"}])
    evil = ScenarioFinished(
        "evil", False, [hostile], 3.0, "orderportal scenarios run --file evil.yaml", 1, "0.1.0", "1.0.0"
    )
    passing = ScenarioFinished("fine", True, [StepFinished("fine", 1, "open", True, 5.0)], 5.0, "", 1, "0.1.0", "1.0.0")
    write_html([finished_run(), evil, passing], tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text()
    assert re.search(r'<header class="banner bad"[^>]*>\s*<h1>2 of 3 scenarios failed</h1>', page)
    assert re.findall(r'<tr data-scenario="([^"]+)"', page) == ["walk", "evil", "fine"]
    assert '<pre class="expected">fetched 41</pre>' in page and '<pre class="found">40</pre>' in page
    assert '<pre class="reproduce">orderportal scenarios run walk</pre>' in page
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;" in page


async def test_a_passing_html_report_of_the_library_is_small_and_fetches_nothing(tmp_path: Path) -> None:
    results = [await run(scenario, lambda event: None) for scenario in SCENARIOS]
    write_html(results, tmp_path / "s.html")
    page = (tmp_path / "s.html").read_text()
    assert f"<h1>All {len(SCENARIOS)} scenarios passed</h1>" in page and len(page.encode()) < 100_000
    assert not re.search(r"<script|<link|\ssrc=|@import|url\(", page, re.IGNORECASE)
    assert "Orderportal opened: 40 supplier products imported" in page  # each step says what it did


def test_the_json_and_junit_reports_carry_the_seed_and_the_versions(tmp_path: Path) -> None:
    write_json([finished_run()], tmp_path / "s.json")
    (scenario,) = json.loads((tmp_path / "s.json").read_text())
    assert (scenario["seed"], scenario["harness_version"], scenario["contract_version"]) == (7, "0.1.0", "1.0.0")
    assert scenario["steps"][0]["duration_ms"] == 12.4
    write_junit([finished_run()], tmp_path / "s.xml")
    suite = ET.parse(tmp_path / "s.xml").getroot()
    shown = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert shown == {"harness": "0.1.0", "contract": "1.0.0", "seed": "7"}


async def test_a_run_records_its_seed_and_the_harness_and_contract_versions() -> None:
    seeded = load("seeded.yaml", "name: seeded\nseed: 9\nsteps:\n  - couple: {customer: '10001'}\n")
    result = await run(seeded, lambda event: None)
    assert (result.seed, result.harness_version, result.contract_version) == (9, harness_version(), CONTRACT_VERSION)


async def test_the_console_says_which_steps_a_failure_skipped_and_why() -> None:
    text = """
name: cut-short
steps:
  - couple: {customer: '10001'}
  - open: {expect: {fetched: 41}}
  - cart: {lines: [{product: 0, containers: 1}]}
  - update_products: {}
"""
    lines: list[str] = []
    await run(load("cut-short.yaml", text), console(lines.append))
    assert lines[-2:-1] == ["  skip cut-short steps 3-4: not run, step 2 failed"], lines
    assert lines[-1].startswith("cut-short: FAILED")
