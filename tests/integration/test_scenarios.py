"""Every bundled scenario is a test case; the runner catches a scenario whose expectation does not hold."""

from __future__ import annotations

import pytest

from scenarios.runner import ScenarioFinished, bundled, load, run

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
