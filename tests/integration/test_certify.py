"""`orderportal certify` against the bundled simulator: every check passes, and the reports say so."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest

from contracts.signing import signed_headers
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials
from scenarios.certify.registry import REGISTRY, Check, Target
from scenarios.certify.reports import Collector, write_all
from scenarios.certify.rules import rule_catalogue
from scenarios.certify.runner import CheckFinished, certify
from supplier_sim import SimServer
from supplier_sim.typedefs import ERRORS

FAST = {
    "lifecycle": {"processingDelay": "1m", "acceptanceDelay": "2m"},
    "dispatch": {"delay": "1m"},
    "catalog": {"size": 60, "inactiveRate": 0.1, "changes": []},  # some inactive products, for REJECT-02
}
LOGINS = {"10001": "basic", "10002": "token", "10003": "api-key"}


def credentials(server: SimServer, number: str) -> Credentials:
    login = server.sim.profile.customer(number)
    assert login is not None
    return Credentials(login.auth, login.username, login.password, login.api_key)


async def run(
    server: SimServer,
    session,
    number: str = "10001",
    other: str | None = "10003",
    checks: list[Check] | None = None,
    handlers: list | None = None,
) -> tuple:
    """Certify the simulator; waiting moves its virtual clock instead of sleeping."""

    async def advance(seconds: float) -> None:
        await server.admin(session, "POST", "clock/advance", json={"by": seconds})

    receiver = Receiver()
    url = await receiver.start()
    target = Target(server.url, number, other, wait_s=600, poll_s=30, seed=7, run_id="test", webhook_url=url)
    collector = Collector()
    try:
        finished = await certify(
            target,
            credentials(server, number),
            [collector, *(handlers or [])],
            sleep=advance,
            receiver=receiver,
            checks=checks,
        )
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
    # The conformance statement: every rule of the contract, with the checks that check it and its verdict.
    rules = {r["id"]: r for r in document["rules"]}
    assert len(rules) == len(rule_catalogue()) and rules["REJECT-R1"]["checks"] == ["REJECT-01"]
    assert {r["verdict"] for r in rules.values()} == {"passed", "not checkable"}
    assert rules["AUTH-R7"]["why"].startswith("it needs the token's lifetime")
    suite = ET.parse(paths[1]).getroot()
    assert suite.get("tests") == str(len(REGISTRY)) and suite.get("failures") == "0"
    page = paths[2].read_text()
    assert page.startswith("<!doctype html>") and "CERTIFIED" in page and "AUTH-01" in page
    assert "The contract's rules" in page and "REJECT-R1" in page
    login = server.sim.profile.customer("10002")
    everything = "".join(p.read_text() for p in paths)
    assert login.password not in everything and "Bearer ***" in everything
    assert issued and "Bearer ***" in everything
    assert not any(token in everything for token in issued)


async def test_a_check_that_fails_carries_its_evidence_and_blocks_only_what_needs_its_data(
    start_sim, session, monkeypatch
) -> None:
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
    # No product to order: what needs one is blocked and says why; what does not still runs and passes.
    assert results["ORDER-01"].verdict == "blocked" and "no active product" in results["ORDER-01"].message
    assert {results[i].verdict for i in ("AUTH-01", "AUTH-02", "AUTH-03", "NOTFOUND-01", "LIST-04")} == {"passed"}
    server.app[ERRORS].clear()  # the simulator broke its contract on purpose here


# Each misbehave switch of the simulator, and the checks it must fail: its targets, and only those.
# The README's switch table says the same, and test_docs_agree keeps it so.
MATRIX: dict[str, set[str]] = {
    "refuseGoodCredentials": {"AUTH-01"},
    "acceptWrongPassword": {"AUTH-02"},
    "acceptMissingCredentials": {"AUTH-03"},
    "leakOtherCustomer": {"AUTH-04"},
    "wrongTotals": {"PAGING-01"},
    "productMissingBetweenPages": {"PAGING-01"},
    "ignorePageSizeLimit": {"PAGING-02"},
    "ignoreUpdatedSince": {"DELTA-01"},
    "caseSensitiveSearch": {"SEARCH-01"},
    "createdNotNew": {"ORDER-01"},
    "duplicateOnReplay": {"ORDER-02", "ORDER-06"},
    "replayIgnoresBody": {"ORDER-03"},
    "serverErrorOnBadInput": {"ORDER-04", "CONTRACT-01"},
    "acceptBadQuantity": {"ORDER-04"},
    "echoOtherQuantities": {"ORDER-05"},
    "noReplayedHeader": {"ORDER-06"},
    "wrongLocation": {"ORDER-07"},
    "readBackOtherWarehouse": {"ORDER-08"},
    "serverErrorOnUnknownOrder": {"NOTFOUND-01", "CONTRACT-01"},
    "echoBadValues": {"ERRORS-01"},
    "overlappingOrderPages": {"LIST-01"},
    "ignoreStatusFilter": {"LIST-02"},
    "ignoreOrderUpdatedSince": {"LIST-03"},
    "lenientListParameters": {"LIST-04"},
    "illegalStatusMove": {"STATUS-01"},
    "historyOutOfOrder": {"STATUS-01", "STATUS-02"},
    "rejectWithoutReason": {"REJECT-01", "REJECT-02", "REJECT-03", "CONTRACT-01"},
    "mismatchEveryContainer": {"ACCEPT-01"},
    "overDispatch": {"DISPATCH-01"},
    "dispatchBeforeAccepted": {"DISPATCH-02"},
    "webhookShowsSecret": {"WEBHOOK-01", "CONTRACT-01"},
    "signBodyOnly": {"WEBHOOK-02"},
    "malformedEvents": {"WEBHOOK-03"},
    "noRedelivery": {"WEBHOOK-04"},
    "deleteKeepsWebhook": {"WEBHOOK-05"},
    "wrongFieldType": {"CONTRACT-01"},
    "slowAnswers": {"LATENCY-01"},
}


# The switches that take away what other checks need, and the reason those checks give for being blocked.
BLOCKED_BY = {
    "refuseGoodCredentials": "do not reach the customer",
    "mismatchEveryContainer": "was REJECTED (CONTAINER_MISMATCH)",
}


def test_every_check_has_a_switch_that_breaks_it_and_every_switch_is_in_the_matrix() -> None:
    from supplier_sim.profile import Misbehaviour

    assert {c.id for c in REGISTRY} == set().union(*MATRIX.values())
    camel = {"".join(w.capitalize() if i else w for i, w in enumerate(f.split("_"))) for f in Misbehaviour.__slots__}
    assert camel == set(MATRIX)


@pytest.mark.parametrize("switch", sorted(MATRIX))
async def test_each_switch_fails_its_checks_and_only_those(start_sim, session, switch: str) -> None:
    server = await start_sim({**FAST, "misbehave": {switch: True}})
    finished, _ = await run(server, session)
    verdicts = {r.id: r for r in finished.results}
    targets = MATRIX[switch]
    for target in targets:
        assert verdicts[target].verdict == "failed", (target, verdicts[target].verdict, verdicts[target].message)
        assert verdicts[target].evidence, f"{target} failed without the evidence that shows it"
    others = {i: (r.verdict, r.message) for i, r in verdicts.items() if i not in targets and r.verdict != "passed"}
    # Every other check still passes, or is blocked by what the switch took away, and says so.
    reason = BLOCKED_BY.get(switch)
    assert all(v == "blocked" and reason and reason in m for v, m in others.values()), others
    assert finished.passed == all(verdicts[t].severity != "mandatory" for t in targets)


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
    result = next(r for r in finished.results if r.id == "WEBHOOK-02")
    assert result.verdict == "failed" and why in result.message and not finished.passed
    assert result.evidence[0]["delivery"]["headers"]["X-Signature"]


async def test_a_flow_that_cannot_be_observed_within_the_wait_is_not_certified(start_sim, session) -> None:
    server = await start_sim({"lifecycle": {"processingDelay": "2d", "acceptanceDelay": "2d"}})
    finished, _ = await run(server, session)
    results = {r.id: r for r in finished.results}
    # A rule about a transition that never happened is not observed, never a pass; and it says what it waited for.
    for unseen in ("STATUS-01", "STATUS-02", "REJECT-01", "ACCEPT-01", "DISPATCH-01", "DISPATCH-02", "LIST-01"):
        assert results[unseen].verdict == "not observed", (unseen, results[unseen].verdict)
        assert "waited 600 s" in results[unseen].message and "NEW" in results[unseen].message
    assert results["ORDER-01"].verdict == "passed" and not finished.passed


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


async def test_the_checks_pass_in_any_order_because_none_reads_another_s_result(start_sim, session) -> None:
    finished, _ = await run(await start_sim(FAST), session, checks=list(reversed(REGISTRY)))
    assert finished.passed, [(r.id, r.verdict, r.message) for r in finished.results if r.verdict != "passed"]


async def test_a_check_run_alone_gets_its_fixtures_and_passes(start_sim, session) -> None:
    for alone in ("DISPATCH-02", "REJECT-03", "LIST-03", "WEBHOOK-04"):
        finished, _ = await run(await start_sim(FAST), session, checks=[c for c in REGISTRY if c.id == alone])
        assert [(r.id, r.verdict) for r in finished.results] == [(alone, "passed")], finished.results[0].message
        assert finished.ok and not finished.passed  # a partial run certifies nothing


async def test_a_secret_the_server_shows_is_caught_on_the_raw_answer_and_blanked_in_the_report(
    start_sim, session, monkeypatch
) -> None:
    from scenarios.certify import fixtures

    made: list[str] = []

    def token_hex(n: int) -> str:
        made.append(f"{'ab' * n}")
        return made[-1]

    monkeypatch.setattr(fixtures.secrets, "token_hex", token_hex)
    server = await start_sim({**FAST, "misbehave": {"webhookShowsSecret": True}})
    finished, collector = await run(server, session)
    result = next(r for r in finished.results if r.id == "WEBHOOK-01")
    assert result.verdict == "failed" and result.message == "GET /webhook shows the secret"
    assert made and made[0] not in json.dumps(collector.document()) and "***" in json.dumps(result.evidence)


async def test_another_customer_s_every_resource_is_refused_not_just_its_lists(start_sim, session, monkeypatch) -> None:
    from supplier_sim import api

    scoped = api._customer

    def unscoped(request, leaks: bool = False):  # type: ignore[no-untyped-def]
        # A server that checks the credential but not whose path it is, on every route.
        number = request.match_info["customerNumber"]
        request.match_info["customerNumber"] = "10001"
        try:
            return scoped(request, leaks)
        finally:
            request.match_info["customerNumber"] = number

    monkeypatch.setattr(api, "_customer", unscoped)
    server = await start_sim(FAST)
    finished, _ = await run(server, session, checks=[c for c in REGISTRY if c.id == "AUTH-04"])
    result = finished.results[0]
    assert result.verdict == "failed" and "POST /orders of customer 10003 answered" in result.message
    server.app[ERRORS].clear()


async def test_a_two_status_filter_that_finds_nothing_fails_the_status_filter_check(
    start_sim, session, monkeypatch
) -> None:
    from supplier_sim.orders import OrderBook

    page = OrderBook.page

    async def literal(self, number, statuses, since_ms, at, size):  # type: ignore[no-untyped-def]
        # "REJECTED,ACCEPTED" taken as one status that no order has.
        return await page(self, number, ["NONE"] if len(statuses) > 1 else statuses, since_ms, at, size)

    monkeypatch.setattr(OrderBook, "page", literal)
    finished, _ = await run(await start_sim(FAST), session, checks=[c for c in REGISTRY if c.id == "LIST-02"])
    assert finished.results[0].verdict == "failed"
    assert "status=REJECTED,ACCEPTED left out the run's orders" in finished.results[0].message


async def test_a_search_by_name_only_fails_the_search_check_on_the_barcode(start_sim, session, monkeypatch) -> None:
    server = await start_sim(FAST)
    catalog = server.sim.catalog
    by_name = {p["productNumber"]: p["name"].lower() for p in catalog.products()}
    matching = catalog.matching

    def names_only(since_ms=None, text=None):  # type: ignore[no-untyped-def]
        found = matching(since_ms, text)
        if not text:
            return found
        return [raw for raw in found if text.lower() in by_name[orjson.loads(raw)["productNumber"]]]

    monkeypatch.setattr(catalog, "matching", names_only)
    finished, _ = await run(server, session, checks=[c for c in REGISTRY if c.id == "SEARCH-01"])
    assert finished.results[0].verdict == "failed" and "part of its productNumber" in finished.results[0].message


async def test_each_rule_gets_the_verdict_of_what_its_checks_judged_of_it(start_sim, session) -> None:
    server = await start_sim({**FAST, "misbehave": {"rejectWithoutReason": True}})
    _, collector = await run(server, session, number="10003")  # api-key: no login to judge
    rules = {r["id"]: r["verdict"] for r in collector.document()["rules"]}
    assert rules["ERROR-R2"] == rules["REJECT-R4"] == rules["REJECT-R1"] == "failed"
    assert rules["ERROR-R1"] == rules["ERROR-R3"] == "passed"  # CONTRACT-01 failed, but not on these
    assert rules["AUTH-R1"] == "passed" and rules["AUTH-R2"] == "not judged"


async def test_the_junit_report_counts_every_verdict_that_is_not_a_pass(start_sim, session, tmp_path: Path) -> None:
    server = await start_sim({"lifecycle": {"processingDelay": "2d", "acceptanceDelay": "2d"}})
    _, collector = await run(server, session)
    suite = ET.parse(write_all(collector.document(), tmp_path)[1]).getroot()
    failures = suite.findall("testcase/failure")
    assert failures and suite.get("failures") == str(len(failures))
    assert {f.get("type") for f in failures} == {"not observed"}
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties["verdict"] == "NOT CERTIFIED" and properties["seed"] == "7"


def test_certify_refuses_a_supplier_url_it_cannot_use_before_it_sends_anything() -> None:
    from click.testing import CliRunner

    from scenarios.certify.cli import certify as command

    common = ["--customer-number", "1", "--auth", "api-key", "--api-key", "k"]
    for url, why in (
        ("127.0.0.1:8080", "must be an http:// or https:// URL"),
        ("http://user:pw@127.0.0.1:8080", "must not carry credentials"),
    ):
        result = CliRunner().invoke(command, ["--supplier-url", url, *common])
        assert result.exit_code == 2 and why in result.output and "pw" not in result.output
    wrong = CliRunner().invoke(command, ["--supplier-url", "http://x", *common, "--wait", "10x"])
    assert wrong.exit_code == 2 and "--wait 10x:" in wrong.output


async def test_the_console_says_what_the_run_waits_for_and_how_long_and_quiet_says_only_the_verdict(
    start_sim, session
) -> None:
    from scenarios.certify.reports import console

    server = await start_sim({"lifecycle": {"processingDelay": "2d", "acceptanceDelay": "2d"}})
    lines: list[str] = []
    quiet: list[str] = []
    receiver = Receiver()
    url = await receiver.start()
    target = Target(server.url, "10001", None, wait_s=600, poll_s=30, seed=7, run_id="test", webhook_url=url)

    async def advance(seconds: float) -> None:
        await server.admin(session, "POST", "clock/advance", json={"by": seconds})

    try:
        handlers = [console(lines.append), console(quiet.append, quiet=True)]
        await certify(target, credentials(server, "10001"), handlers, sleep=advance, receiver=receiver)
    finally:
        await receiver.stop()
    waits = [line for line in lines if line.lstrip().startswith("...")]
    assert waits[0].endswith("is NEW; waiting for a final status (0.0s of 10m00s)")
    assert 5 <= len(waits) <= 15, waits  # a tenth of --wait apart at most, not a line per poll
    assert lines[-1].startswith("13 checks saw nothing happen within --wait: if the server is slower, raise --wait")
    assert len(quiet) == 1 and quiet[0].startswith("NOT CERTIFIED: ")


async def test_on_a_terminal_a_live_bar_shows_the_checks_done_and_left_and_each_verdict(start_sim, session) -> None:
    import io

    from rich.console import Console

    from scenarios.certify.progress import LiveProgress

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=150, color_system=None)
    server = await start_sim(FAST)
    with LiveProgress(terminal) as bar:
        finished, _ = await run(server, session, handlers=[bar])
    shown = screen.getvalue()
    assert finished.passed and "PASS AUTH-01" in shown and "CERTIFIED: 37 passed" in shown
    assert "/37" in shown  # the bar counts the checks done of all


async def test_the_html_report_is_one_small_self_contained_page_that_marks_what_failed(
    start_sim, session, tmp_path: Path
) -> None:
    _, passing = await run(await start_sim(FAST), session)
    page = write_all(passing.document(), tmp_path / "pass")[2].read_text()
    assert len(page.encode()) < 200_000 and 'data-verdict="CERTIFIED' in page
    assert all(f'data-check="{c.id}"' in page for c in REGISTRY) and 'data-rule="REJECT-R1"' in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # nothing to fetch, nothing to run
    assert "<svg" in page and "p99" in page  # the latency chart
    server = await start_sim({**FAST, "misbehave": {"wrongFieldType": True}})
    _, failing = await run(server, session)
    page = write_all(failing.document(), tmp_path / "fail")[2].read_text()
    assert 'data-verdict="NOT CERTIFIED"' in page and "<mark>&#34;" in page.replace("&quot;", "&#34;")
    assert "/items/0/containerAmount: must be of type integer" in page


def test_a_value_from_the_server_reaches_the_page_escaped() -> None:
    from scenarios.templating import json_html

    shown = json_html({"name": "<script>alert(1)</script>", "n": [1, "x"]}, ["/n/1: must be an integer"])
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "<mark>&quot;x&quot;</mark>" in shown


async def test_the_junit_reports_meet_the_junit_schema_ci_servers_read(start_sim, session, tmp_path: Path) -> None:
    import xmlschema

    from scenarios import reporting
    from scenarios.runner import load
    from scenarios.runner import run as run_scenario

    schema = xmlschema.XMLSchema(Path(__file__).parents[1] / "data" / "junit.xsd")
    server = await start_sim({**FAST, "misbehave": {"rejectWithoutReason": True}})
    _, collector = await run(server, session)
    certification = write_all(collector.document(), tmp_path)[1]
    schema.validate(certification)
    cases = ET.parse(certification).getroot().findall("testcase")
    assert {c.find("failure").get("type") for c in cases if c.find("failure") is not None} == {"failed"}
    text = "name: broken\nsteps:\n  - couple: {customer: '10001', password: wrong-password, expect: {status: 200}}\n"
    result = await run_scenario(load("broken.yaml", text), lambda event: None)
    reporting.write_junit([result], tmp_path / "scenarios.xml")
    schema.validate(tmp_path / "scenarios.xml")
    broken = ET.parse(certification).getroot()
    ET.SubElement(broken.find("testcase"), "failure-of-its-own")  # the schema can fail: what readers do not know
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(ET.tostring(broken, encoding="unicode"))


async def test_a_failing_webhook_check_s_deliveries_reach_every_report(
    start_sim, session, monkeypatch, tmp_path
) -> None:
    from supplier_sim import webhooks

    monkeypatch.setattr(
        webhooks, "signed_headers", lambda secret, body, t: signed_headers("another-secret-0123", body, t)
    )
    _, collector = await run(await start_sim(FAST), session)
    paths = write_all(collector.document(), tmp_path)
    page = paths[2].read_text()
    assert "WEBHOOK-02" in page and "X-Signature" in page  # the delivery shown as its evidence
    # The stylesheet arrives as written: a browser does not decode &gt; inside <style>.
    style = page[page.index("<style>") : page.index("</style>")]
    assert ".pair>div" in style and "&gt;" not in style and "&#34;" not in style
