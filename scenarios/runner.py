"""Loads scenarios (YAML, checked against their contract) and runs them, emitting plain events."""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from contracts import CONTRACT_VERSION, contracts
from portal.bootstrap import PortalServer
from scenarios.drivers import PortalClient, SimAdmin
from scenarios.logbook import Logbook
from scenarios.stage import Stage, StepFailed, evidence
from scenarios.steps import ACTIONS
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    seed: int
    profile: dict[str, Any]
    webhooks: bool
    steps: list[dict[str, Any]]
    source: str


@dataclass(frozen=True, slots=True)
class StepFinished:
    scenario: str
    index: int
    action: str
    ok: bool
    duration_ms: float
    expected: str = ""
    found: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)  # what the apps logged during a failed step
    summary: str = ""  # what a step that went well did, in one line


@dataclass(frozen=True, slots=True)
class ScenarioFinished:
    name: str
    ok: bool
    steps: list[StepFinished]
    duration_ms: float
    reproduce: str
    seed: int
    harness_version: str
    contract_version: str
    started_at: str = ""  # ISO 8601, UTC
    not_run: list[str] = field(default_factory=list)  # the actions of the steps a failure skipped


@dataclass(frozen=True, slots=True)
class StepsSkipped:
    """The steps after a failed one, which are not run: the console says so rather than leave them out."""

    scenario: str
    first: int
    last: int
    reason: str


Event = StepFinished | StepsSkipped | ScenarioFinished


def load(path: Path | str, text: str | None = None) -> Scenario:
    """A scenario from its YAML; ValueError naming each field that breaks the scenario contract."""
    raw = yaml.safe_load(text if text is not None else Path(path).read_text("utf-8"))
    errors = contracts().errors("scenario", raw)
    if errors:
        listed = "; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors)
        raise ValueError(f"{path}: not a valid scenario: {listed}")
    return Scenario(
        raw["name"],
        raw.get("description", ""),
        raw.get("seed", 1),
        raw.get("profile", {}),
        raw.get("portal", {}).get("webhooks", True),
        raw["steps"],
        str(path),
    )


def bundled() -> list[Scenario]:
    """The scenarios that ship with the harness, by name."""
    folder = resources.files("scenarios") / "library"
    found = [
        load(f"library/{entry.name}", entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    ]
    return sorted(found, key=lambda s: s.name)


async def run(
    scenario: Scenario, emit: Callable[[Event], None], narrate: Callable[[str], None] | None = None
) -> ScenarioFinished:
    """Run one scenario on a fresh simulator (virtual clock) and a fresh portal (SQLite in a temporary folder).

    ``narrate`` hears one numbered line for the start and one for each step that went well.
    """
    started, started_at = time.perf_counter(), datetime.now(UTC).isoformat(timespec="seconds")
    results: list[StepFinished] = []
    profile = parse_profile({**{"catalog": {"size": 40, "changes": []}}, **scenario.profile}, base=None)
    with tempfile.TemporaryDirectory(prefix="orderportal-scenario-") as tmp, Logbook() as logbook:
        config = SimConfig(profile=profile, seed=scenario.seed, clock="virtual", strict=True)
        portal_db = str(Path(tmp) / "portal.db")
        async with (
            SimServer(config) as sim,
            PortalServer(db_url=portal_db, webhooks=scenario.webhooks, sync_interval_s=None) as portal,
            aiohttp.ClientSession() as session,
        ):
            exchanges: list[dict[str, Any]] = []
            client = PortalClient(session, portal.url, observe=lambda answer: exchanges.append(evidence(answer)))
            stage = Stage(client, SimAdmin.of(sim, session), portal.state(), exchanges)
            told = _numbered(narrate)
            told(f"supplier simulator on {sim.url} (virtual clock), portal on {portal.url}")
            for index, step in enumerate(scenario.steps, start=1):
                result, summary = await _step(stage, scenario.name, index, step, logbook)
                results.append(result)
                emit(result)
                if result.ok and summary:
                    told(summary)
                if not result.ok:
                    if index < len(scenario.steps):
                        emit(StepsSkipped(scenario.name, index + 1, len(scenario.steps), f"step {index} failed"))
                    break
            if all(r.ok for r in results):
                try:
                    sim.check()
                except AssertionError as exc:
                    results.append(
                        StepFinished(
                            scenario.name,
                            len(results) + 1,
                            "simulator",
                            False,
                            0,
                            "no simulator error",
                            str(exc),
                            logs=logbook.lines,
                        )
                    )
                    emit(results[-1])
    ok = all(r.ok for r in results)
    bundled_one = scenario.source.startswith("library/")
    reproduce = f"orderportal scenarios run {scenario.name if bundled_one else '--file ' + scenario.source}"
    elapsed_ms = (time.perf_counter() - started) * 1000
    versions = harness_version(), CONTRACT_VERSION
    not_run = [next(iter(step)) for step in scenario.steps[len(results) :]] if not ok else []
    finished = ScenarioFinished(
        scenario.name, ok, results, elapsed_ms, reproduce, scenario.seed, *versions, started_at, not_run
    )
    emit(finished)
    return finished


def harness_version() -> str:
    try:
        return metadata.version("orderportal-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


def _numbered(narrate: Callable[[str], None] | None) -> Callable[[str], None]:
    count = 0

    def told(line: str) -> None:
        nonlocal count
        count += 1
        if narrate is not None:
            narrate(f"{count}. {line}")

    return told


async def _step(
    stage: Stage, name: str, index: int, step: dict[str, Any], logbook: Logbook
) -> tuple[StepFinished, str | None]:
    ((action, args),) = step.items()
    started, logged = time.perf_counter(), len(logbook.lines)
    try:
        step_action: Any = ACTIONS[action]
        summary = await step_action(stage, args)
    except StepFailed as failed:
        expected, found, evidence = failed.expected, failed.found, failed.evidence
    except Exception as exc:  # a crash in a step is a failed step, with its trace
        expected, found = "the step to run", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        evidence = stage.exchanges[-3:]
    else:
        elapsed_ms = (time.perf_counter() - started) * 1000
        return StepFinished(name, index, action, True, elapsed_ms, summary=summary or ""), summary
    elapsed_ms = (time.perf_counter() - started) * 1000
    logs = logbook.lines[logged:]
    return StepFinished(name, index, action, False, elapsed_ms, expected, found, evidence, logs), None
