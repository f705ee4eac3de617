"""`orderportal certify` against the bundled simulator: every check passes, and the reports say so."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from contracts.signing import signed_headers
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials
from scenarios.certify.registry import REGISTRY, Target
from scenarios.certify.reports import Collector, write_all
from scenarios.certify.runner import CheckFinished, certify
from supplier_sim import SimServer
from supplier_sim.typedefs import ERRORS

FAST = {"lifecycle": {"processingDelay": "1m", "acceptanceDelay": "2m"}, "dispatch": {"delay": "1m"}}
LOGINS = {"10001": "basic", "10002": "token", "10003": "api-key"}


def credentials(server: SimServer, number: str) -> Credentials:
    login = server.sim.profile.customer(number)
    assert login is not None
    return Credentials(login.auth, login.username, login.password, login.api_key)


async def run(server: SimServer, session, number: str = "10001", other: str | None = "10003") -> tuple:
    """Certify the simulator; waiting moves its virtual clock instead of sleeping."""

    async def advance(seconds: float) -> None:
        await server.admin(session, "POST", "clock/advance", json={"by": seconds})

    receiver = Receiver()
    url = await receiver.start()
    target = Target(server.url, number, other, wait_s=600, poll_s=30, seed=7, run_id="test", webhook_url=url)
    collector = Collector()
    try:
        finished = await certify(target, credentials(server, number), [collector], sleep=advance, receiver=receiver)
    finally:
        await receiver.stop()
    return finished, collector


@pytest.mark.parametrize("number", sorted(LOGINS))
async def test_the_bundled_simulator_passes_every_check_with_each_auth_method(start_sim, session, number: str) -> None:
    server = await start_sim(FAST)
    finished, _ = await run(server, session, number, other="10004")
    verdicts = {r.id: r.verdict for r in finished.results}
    assert finished.passed, [(r.id, r.message) for r in finished.results if r.verdict != "passed"]
    assert set(verdicts) == {c.id for c in REGISTRY} and set(verdicts.values()) == {"passed"}


async def test_without_another_customer_number_the_isolation_check_is_skipped(start_sim, session) -> None:
    finished, _ = await run(await start_sim(FAST), session, other=None)
    skipped = [r.id for r in finished.results if r.verdict == "skipped"]
    assert finished.passed and skipped == ["AUTH-04"]


async def test_the_reports_record_the_run_and_blank_every_credential(start_sim, session, tmp_path: Path) -> None:
    server = await start_sim(FAST)
    issued: list[str] = []
    login = server.sim.auth.login

    def keep(username: str, password: str):  # the tokens the run gets, to look for them in the reports
        token, record = login(username, password)
        issued.append(token)
        return token, record

    server.sim.auth.login = keep
    _, collector = await run(server, session, "10002", other="10001")
    paths = write_all(collector.document(), tmp_path)
    document = json.loads(paths[0].read_text())
    assert document["certified"] and document["target"] == server.url and document["seed"] == 7
    assert document["contractVersion"] == "1.0.0" and document["harnessVersion"]
    suite = ET.parse(paths[1]).getroot()
    assert suite.get("tests") == str(len(REGISTRY)) and suite.get("failures") == "0"
    page = paths[2].read_text()
    assert page.startswith("<!doctype html>") and "CERTIFIED" in page and "AUTH-01" in page
    login = server.sim.profile.customer("10002")
    everything = "".join(p.read_text() for p in paths)
    assert login.password not in everything and "Bearer ***" in everything
    assert issued and "Bearer ***" in everything
    assert not any(token in everything for token in issued)


async def test_a_check_that_fails_carries_its_evidence(start_sim, session, monkeypatch) -> None:
    server = await start_sim(FAST)
    monkeypatch.setattr(
        server.sim.catalog,
        "page",
        lambda *a: b'{"currentPage":1,"pageSize":1,"totalPages":1,"totalItems":1,"items":[]}',
    )
    finished, _ = await run(server, session)
    results: dict[str, CheckFinished] = {r.id: r for r in finished.results}
    assert not finished.passed
    assert results["PAGING-01"].verdict == "failed" and "totalItems is 1" in results["PAGING-01"].message
    assert results["PAGING-01"].evidence and results["PAGING-01"].evidence[0]["request"]["method"] == "GET"
    server.app[ERRORS].clear()  # the simulator broke its contract on purpose here


@pytest.mark.parametrize(
    ("switch", "check"),
    [
        ("wrongTotals", "PAGING-01"),
        ("productMissingBetweenPages", "PAGING-01"),
        ("illegalStatusMove", "STATUS-01"),
        ("overDispatch", "DISPATCH-01"),
        ("duplicateOnReplay", "ORDER-02"),
        ("serverErrorOnBadInput", "ORDER-04"),
        ("leakOtherCustomer", "AUTH-04"),
        ("wrongFieldType", "CONTRACT-01"),
        ("refuseGoodCredentials", "AUTH-01"),
        ("acceptWrongPassword", "AUTH-02"),
        ("acceptMissingCredentials", "AUTH-03"),
        ("ignorePageSizeLimit", "PAGING-02"),
        ("ignoreUpdatedSince", "DELTA-01"),
        ("createdNotNew", "ORDER-01"),
        ("replayIgnoresBody", "ORDER-03"),
        ("acceptBadQuantity", "ORDER-04"),
        ("historyOutOfOrder", "STATUS-01"),
        ("webhookShowsSecret", "CONTRACT-01"),
        ("signBodyOnly", "WEBHOOK-01"),
        ("malformedEvents", "WEBHOOK-01"),
        ("noRedelivery", "WEBHOOK-01"),
    ],
)
async def test_each_misbehaviour_of_the_simulator_fails_the_check_made_for_it(
    start_sim, session, switch: str, check: str
) -> None:
    server = await start_sim({**FAST, "catalog": {"size": 60, "changes": []}, "misbehave": {switch: True}})
    finished, _ = await run(server, session)
    verdicts = {r.id: r for r in finished.results}
    assert not finished.passed
    assert verdicts[check].verdict == "failed", (verdicts[check].verdict, verdicts[check].message)
    assert verdicts[check].evidence, "a failed check shows the exchange that broke the contract"


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (lambda secret, body, t: signed_headers("another-secret-0123456789", body, t), "does not match the body"),
        (lambda secret, body, t: signed_headers(secret, body, t - 3600), "outside the replay window"),
        (lambda secret, body, t: {"X-Signature": signed_headers(secret, body, t)["X-Signature"]}, "is missing"),
    ],
    ids=["wrong-secret", "stale-timestamp", "no-timestamp"],
)
async def test_a_server_signing_its_events_wrongly_fails_the_webhook_check(
    start_sim, session, monkeypatch, headers, why
) -> None:
    from supplier_sim import webhooks

    monkeypatch.setattr(webhooks, "signed_headers", headers)
    finished, _ = await run(await start_sim(FAST), session)
    result = next(r for r in finished.results if r.id == "WEBHOOK-01")
    assert result.verdict == "failed" and why in result.message and not finished.passed


async def test_a_flow_that_cannot_be_observed_within_the_wait_is_not_certified(start_sim, session) -> None:
    server = await start_sim({"lifecycle": {"processingDelay": "2d", "acceptanceDelay": "2d"}})
    finished, _ = await run(server, session)
    verdicts = {r.id: r.verdict for r in finished.results}
    assert verdicts["STATUS-01"] == "passed" and verdicts["DISPATCH-01"] == "not observed"
    assert not finished.passed


async def test_a_secret_in_a_failed_scenario_step_never_reaches_its_evidence(start_sim, session) -> None:
    from scenarios.runner import load
    from scenarios.runner import run as run_scenario

    text = "name: leaky\nsteps:\n  - couple: {customer: '10001', password: my-secret-guess, expect: {status: 200}}\n"
    result = await run_scenario(load("leaky.yaml", text), lambda event: None)
    assert not result.ok and "my-secret-guess" not in str(result.steps[-1].evidence)


async def test_two_runs_with_the_same_seed_register_different_webhook_secrets(start_sim, session, monkeypatch) -> None:
    from supplier_sim import webhooks

    used: set[str] = set()

    def recording(secret: str, body: bytes, t: int) -> dict[str, str]:
        used.add(secret)
        return signed_headers(secret, body, t)

    monkeypatch.setattr(webhooks, "signed_headers", recording)
    for _ in range(2):
        finished, _ = await run(await start_sim(FAST), session)
        assert finished.passed
    assert len(used) == 2
