"""No secret leaves: every scenario and a certification per auth method, then everything they left searched."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import scenarios.runner
from contracts.wire import basic_authorization
from portal.bootstrap import PortalServer
from portal.domain.setup import AuthMethod, CustomerNumber
from scenarios import reporting
from scenarios.certify import reports
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials
from scenarios.certify.registry import Target
from scenarios.certify.runner import certify
from scenarios.logbook import Logbook
from scenarios.runner import Scenario, bundled, load, run
from supplier_sim import SimServer
from supplier_sim.simulator import Simulator
from supplier_sim.webhooks import Webhooks
from tests.helpers import client_for

KINDS = ("password", "api key", "basic credentials in base64", "bearer token", "webhook secret")
FAST = {"lifecycle": {"processingDelay": "1m", "acceptanceDelay": "2m"}, "dispatch": {"delay": "1m"}}


class Evidence:
    """The secrets a run handed out, and every text it left behind, by where it was found."""

    def __init__(self) -> None:
        self.secrets: defaultdict[str, set[str]] = defaultdict(set)
        self.shown: dict[str, str] = {}

    def credential(self, auth: str, username: str | None, password: str | None, api_key: str | None) -> None:
        if api_key:
            self.secrets["api key"].add(api_key)
        if password:
            self.secrets["password"].add(password)
        if auth == "basic" and username and password:
            self.secrets["basic credentials in base64"].add(basic_authorization(username, password).split(" ", 1)[1])

    async def take_sim(self, server: SimServer, session: aiohttp.ClientSession) -> None:
        """The simulator's journal and delivery log, read through its admin API, and its customers' credentials."""
        for c in server.sim.profile.customers:
            self.credential(c.auth, c.username, c.password, c.api_key)
        journal = await server.admin(session, "GET", "journal", params={"limit": "100000"})
        # Numbered: a later simulator may get a port an earlier one had.
        self.shown[f"journal of {server.url} ({len(self.shown)})"] = json.dumps(journal)
        deliveries = await server.admin(session, "GET", "webhooks/deliveries", params={"limit": "100000"})
        self.shown[f"webhook deliveries of {server.url} ({len(self.shown)})"] = json.dumps(deliveries)

    async def take_portal(self, portal: PortalServer, session: aiohttp.ClientSession) -> None:
        """The credentials and webhook secrets the portal keeps, and its answers about each customer number."""
        async with portal.portal.uow() as uow:
            customers = await uow.customers.all()
        for c in customers:
            self.credential(c.auth_method.value, c.username, c.password, c.api_key)
            if c.webhook_secret:
                self.secrets["webhook secret"].add(c.webhook_secret)
            for path in (
                f"/api/customer-numbers/{c.id}",
                f"/api/suppliers/{c.supplier_id}/contract-violations",
                f"/api/suppliers/{c.supplier_id}/products?size=1000",
            ):
                async with session.get(portal.url + path) as response:
                    self.shown[f"portal answer GET {path} of {portal.url} ({len(self.shown)})"] = await response.text()

    def leaks(self) -> list[tuple[str, str]]:
        """Where a secret shows, as (kind, where): never the secret itself, so that this list can be printed."""
        return sorted(
            {
                (kind, where)
                for kind, values in self.secrets.items()
                for value in values
                for where, text in self.shown.items()
                if value in text
            }
        )


def recording_servers(evidence: Evidence) -> tuple[type[SimServer], type[PortalServer]]:
    """The runner's servers, which hand over what they hold just before they stop."""

    class RecordingSim(SimServer):
        async def stop(self) -> None:
            if self._runner is not None:
                async with aiohttp.ClientSession() as session:
                    await evidence.take_sim(self, session)
            await super().stop()

    class RecordingPortal(PortalServer):
        async def stop(self) -> None:
            if self._runner is not None:
                async with aiohttp.ClientSession() as session:
                    await evidence.take_portal(self, session)
            await super().stop()

    return RecordingSim, RecordingPortal


def record_handouts(monkeypatch: pytest.MonkeyPatch, evidence: Evidence) -> None:
    """Keep every token a simulator issues, webhook secret it is given, and answer body any client reads."""
    issue_token, register, read = Simulator.issue_token, Webhooks.register, aiohttp.ClientResponse.read

    async def issuing(self: Simulator, username: str, password: str) -> Any:
        token, issued = await issue_token(self, username, password)
        evidence.secrets["bearer token"].add(token)
        return token, issued

    async def registering(self: Webhooks, customer_number: str, url: str, secret: str) -> Any:
        evidence.secrets["webhook secret"].add(secret)
        return await register(self, customer_number, url, secret)

    async def reading(self: aiohttp.ClientResponse) -> bytes:
        body = await read(self)
        # The two answers that carry a secret on purpose: a token to its owner, a login to the admin's harness.
        login = (
            self.method == "GET"
            and self.url.path.startswith("/_sim/customers/")
            and self.url.path.endswith("/credentials")
        )
        handout = self.url.path == "/api/v1/auth" or login
        if not handout:
            evidence.shown[f"answer {self.method} {self.url} #{len(evidence.shown)}"] = body.decode("utf-8", "replace")
        return body

    monkeypatch.setattr(Simulator, "issue_token", issuing)
    monkeypatch.setattr(Webhooks, "register", registering)
    monkeypatch.setattr(aiohttp.ClientResponse, "read", reading)


def failing_after_coupling(number: str) -> Scenario:
    """A scenario that fails right after coupling, so that its evidence holds the request with the credential."""
    steps = f"  - couple: {{customer: '{number}'}}\n  - open: {{expect: {{fetched: 41}}}}\n"
    return load(f"fails-{number}.yaml", f"name: fails-{number}\nsteps:\n{steps}")


GUESSED = load(
    "guessed.yaml",
    "name: guessed\nsteps:\n  - couple: {customer: '10001', password: guessed-password-0123, expect: {status: 200}}\n",
)


async def run_scenarios(folder: Path, echo: Callable[[str], None]) -> int:
    """Every bundled scenario, which must pass, and four that fail with credentials in their evidence; the reports."""
    library = bundled()
    results = [await run(s, reporting.console(echo)) for s in library]
    assert all(r.ok for r in results), [r.name for r in results if not r.ok]
    failing = [failing_after_coupling(n) for n in ("10001", "10002", "10003")] + [GUESSED]
    failed = [await run(s, reporting.console(echo)) for s in failing]
    assert not any(r.ok for r in failed) and all(r.steps[-1].evidence for r in failed)
    reporting.write_json(results + failed, folder / "scenarios.json")
    reporting.write_junit(results + failed, folder / "scenarios.xml")
    reporting.write_html(results + failed, folder / "scenarios.html")
    return len(results) + len(failed)


async def certify_once(server: SimServer, number: str, other: str, echo: Callable[[str], None]) -> reports.Collector:
    """Certify the simulator as ``number``; waiting moves its virtual clock."""
    async with aiohttp.ClientSession() as session:

        async def advance(seconds: float) -> None:
            await server.admin(session, "POST", "clock/advance", json={"by": seconds})

        login = server.sim.profile.customer(number)
        assert login is not None
        receiver = Receiver()
        target = Target(server.url, number, other, 600, 30, 7, f"secrets-{number}", await receiver.start())
        collector = reports.Collector()
        try:
            finished = await certify(
                target,
                Credentials(login.auth, login.username, login.password, login.api_key),
                [collector, reports.console(echo)],
                sleep=advance,
                receiver=receiver,
            )
        finally:
            await receiver.stop()
        assert finished.passed, [(r.id, r.message) for r in finished.results if r.verdict != "passed"]
        return collector


async def use_a_token_of_our_own(server: SimServer, session: aiohttp.ClientSession, evidence: Evidence) -> None:
    """Log in as the token customer and use the token on its own path and on another customer's."""
    south = await client_for(server, session, "10002")
    assert (await south.login()).status == 200 and south.token in evidence.secrets["bearer token"]
    assert (await south.call("GET", "/products")).status == 200
    assert (await south.call("GET", "/api/v1/customers/10001/orders", absolute=True)).status == 403


def files_in(folder: Path) -> dict[str, str]:
    return {f"report {p.relative_to(folder)}": p.read_text("utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


async def test_no_secret_reaches_a_log_journal_delivery_report_console_or_answer(
    start_sim, session: aiohttp.ClientSession, caplog, monkeypatch, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    # A scenario keeps the apps' log lines in its logbook instead of passing them on: take them from there too.
    logged: list[str] = []
    emit = Logbook.emit
    monkeypatch.setattr(Logbook, "emit", lambda self, record: (logged.append(self.format(record)), emit(self, record)))
    evidence = Evidence()
    record_handouts(monkeypatch, evidence)
    sim_class, portal_class = recording_servers(evidence)
    monkeypatch.setattr(scenarios.runner, "SimServer", sim_class)
    monkeypatch.setattr(scenarios.runner, "PortalServer", portal_class)
    console: list[str] = []
    scenario_runs = await run_scenarios(tmp_path, console.append)
    for number, other in (("10001", "10003"), ("10002", "10001"), ("10003", "10002")):
        server = await start_sim(FAST)
        collector = await certify_once(server, number, other, console.append)
        reports.write_all(collector.document(), tmp_path / f"certify-{number}")
        if number == "10002":
            await use_a_token_of_our_own(server, session, evidence)
        await evidence.take_sim(server, session)
    written = files_in(tmp_path)
    evidence.shown |= written | {"console": "\n".join(console), "log": caplog.text + "\n".join(logged)}

    # Not vacuous: each kind of secret was handed out, and each place was written to and blanked secrets.
    assert all(evidence.secrets[kind] for kind in KINDS), {k: len(evidence.secrets[k]) for k in KINDS}
    assert all(len(value) >= 8 for values in evidence.secrets.values() for value in values)
    assert len(written) == 3 + 3 * 3 and logged
    journals = [text for where, text in evidence.shown.items() if where.startswith("journal of ")]
    assert len(journals) == scenario_runs + 3
    assert all(any(f'"{blank}"' in text for text in journals) for blank in ("Basic ***", "Bearer ***", "***"))
    assert any('"password": "***"' in t or '"apiKey": "***"' in t for t in written.values())
    assert any(where.startswith("webhook deliveries") and '"eventId"' in t for where, t in evidence.shown.items())
    assert sum(where.startswith("portal answer") for where in evidence.shown) >= 3 * scenario_runs
    leaks = [f"a {kind} in {where}" for kind, where in evidence.leaks()]
    assert not leaks, f"{len(leaks)} secret(s) shown: " + "; ".join(leaks[:20])


def test_the_portals_customer_numbers_and_credentials_keep_their_secrets_out_of_their_repr() -> None:
    customer = CustomerNumber(1, 1, "10001", AuthMethod.BASIC, "north-market", "pass-0123456789", "key-0123456789")
    customer.webhook_secret = "hook-secret-0123456789"
    shown = repr(customer) + repr(customer.credentials)
    assert "10001" in shown and not [s for s in ("pass-", "key-", "hook-secret-") if s in shown]


async def test_the_simulators_customers_tokens_and_registrations_keep_their_secrets_out_of_their_repr(
    sim: SimServer,
) -> None:
    south, east = sim.sim.profile.customer("10002"), sim.sim.profile.customer("10003")
    _, token = await sim.sim.issue_token("south-market", "south-demo-pass-2")
    registration = await sim.sim.hooks.register("10003", "http://127.0.0.1:9/hook", "hook-secret-0123456789")
    shown = " ".join(repr(x) for x in (south, east, token, registration, sim.sim.profile))
    assert "10002" in shown and "10003" in shown
    assert not [s for s in ("south-demo-pass-2", "east-demo-key-3f9a27c1d8e4", "hook-secret-0123456789") if s in shown]
