"""Runs the checks and emits a stream of plain events; reports and the console consume it."""

from __future__ import annotations

import contextlib
import random
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import aiohttp

import scenarios.certify.checks  # noqa: F401 - registers the checks and their fixtures
from contracts.loader import CONTRACT_VERSION
from contracts.redaction import blank_values
from contracts.wire import format_timestamp
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials, Recorder, latency_table
from scenarios.certify.registry import (
    EACH,
    FIXTURES,
    LAST,
    MANDATORY,
    PLUGIN_GROUP,
    REGISTRY,
    Blocked,
    Check,
    CheckFailed,
    CheckSkipped,
    Context,
    Evidence,
    NotObserved,
    Target,
)


@dataclass(frozen=True, slots=True)
class RunStarted:
    target: str
    customer: str
    seed: int
    started_at: str
    contract_version: str
    harness_version: str
    checks: int
    excluded: list[str] = field(default_factory=list)  # the registered checks this run leaves out


@dataclass(frozen=True, slots=True)
class CheckStarted:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class CheckFinished:
    id: str
    title: str
    severity: str
    verdict: str  # passed | failed | blocked | not observed | skipped | error
    message: str
    duration_ms: float
    evidence: list[dict[str, Any]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    failed_rules: list[str] = field(default_factory=list)  # of a failed check: the rules it broke (empty: all)
    passed_rules: list[str] = field(default_factory=list)  # of a failed check: the rules it showed held


@dataclass(frozen=True, slots=True)
class RunFinished:
    passed: bool  # every mandatory check that ran passed or does not apply, and none was left out
    counts: dict[str, int]
    results: list[CheckFinished]
    finished_at: str
    notes: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    latency: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No mandatory check that ran failed, was blocked, went unobserved or raised: a partial run can be ok."""
        return not any(r.severity == MANDATORY and r.verdict in NOT_PASSED for r in self.results)


@dataclass(frozen=True, slots=True)
class Waiting:
    """The run is waiting: what for, and how long it has waited of its --wait."""

    what: str
    waited_s: float
    wait_s: float


Event = RunStarted | CheckStarted | Waiting | CheckFinished | RunFinished
Handler = Callable[[Event], None]
VERDICTS = ("passed", "failed", "blocked", "not observed", "skipped", "error")
NOT_PASSED = ("failed", "blocked", "not observed", "error")  # a mandatory check with one of these is not a pass


def harness_version() -> str:
    try:
        return metadata.version("orderportal-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


def load_plugins() -> list[str]:
    """Import every module of the entry-point group, whose decorators register more checks and fixtures."""
    loaded = []
    for entry in metadata.entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()
        except Exception as exc:
            raise RuntimeError(f"the certify plugin {entry.name} ({entry.value}) does not load: {exc}") from exc
        loaded.append(entry.name)
    return loaded


class FixtureError(Exception):
    """A fixture raised inside certify: the checks that need it are errors, with its traceback."""


class Fixtures:
    """Each fixture computed once per run, or its failure kept and raised again to every check that needs it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.values: dict[str, Any] = {}
        self.failures: dict[str, Exception] = {}

    async def get(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name not in self.failures:
            try:
                if name not in FIXTURES:
                    raise FixtureError(f"no fixture is named {name}")
                made = FIXTURES[name]
                needed = {need: await self.get(need) for need in made.needs}
                self.values[name] = await made.make(self.ctx, **needed)
                return self.values[name]
            except (Blocked, NotObserved, CheckSkipped, FixtureError) as exc:
                self.failures[name] = exc
            except Exception as exc:  # certify's own failure, or a server answer it did not foresee
                self.failures[name] = FixtureError(
                    f"fixture {name} raised {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
                )
        raise self.failures[name]


async def certify(
    target: Target,
    credentials: Credentials,
    handlers: list[Handler],
    sleep: Callable[[float], Awaitable[None]] | None = None,
    timeout_s: float = 10.0,
    receiver: Receiver | None = None,
    checks: list[Check] | None = None,
) -> RunFinished:
    """Run ``checks`` (every registered one by default) against ``target``.

    The verdict is passed only if every mandatory check ran and none failed, was blocked, went
    unobserved or raised; a check that does not apply (skipped) is no obstacle.
    """

    def emit(event: Event) -> None:
        for handler in handlers:
            handler(event)

    chosen = list(REGISTRY) if checks is None else checks
    excluded = [c.id for c in REGISTRY if c not in chosen]
    # Checks over every answer of the run judge the traffic of all the others, so they come last.
    ordered = [c for c in chosen if c.scope == EACH] + [c for c in chosen if c.scope == LAST]
    began = time.perf_counter()
    emit(
        RunStarted(
            target.url,
            target.customer,
            target.seed,
            _now(),
            CONTRACT_VERSION,
            harness_version(),
            len(ordered),
            excluded,
        )
    )
    results = []
    async with aiohttp.ClientSession() as session:
        recorder = Recorder(session, target.url, target.customer, credentials, timeout_s)
        context = Context(target, recorder, random.Random(target.seed), receiver=receiver)
        if sleep is not None:
            context.sleep = sleep
        # The server's own words (order ids, statuses) go to a terminal: blanked and made printable first.
        context.progress = lambda what, waited_s, wait_s: emit(
            Waiting(_printable(blank_values(what, recorder.secrets)), waited_s, wait_s)
        )
        fixtures = Fixtures(context)
        try:
            for name in _early(ordered):
                with contextlib.suppress(Blocked, NotObserved, CheckSkipped, FixtureError):
                    await fixtures.get(name)  # a failure is kept and given to each check that needs it
            for registered in ordered:
                emit(CheckStarted(registered.id, registered.title))
                result = await _run(registered, context, fixtures)
                results.append(result)
                emit(result)
        finally:
            for cleanup in context.cleanups:
                await cleanup()
    counts = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    mandatory_excluded = [c.id for c in REGISTRY if c.id in excluded and c.severity == MANDATORY]
    ok = not any(r.severity == MANDATORY and r.verdict in NOT_PASSED for r in results)
    finished = RunFinished(
        ok and not mandatory_excluded,
        counts,
        results,
        _now(),
        context.notes,
        excluded,
        time.perf_counter() - began,
        latency_table(recorder.exchanges),
    )
    emit(finished)
    return finished


async def _run(registered: Check, context: Context, fixtures: Fixtures) -> CheckFinished:
    recorder = context.http
    started, mark = time.perf_counter(), len(recorder.exchanges)
    evidence: list[Evidence] = []
    failed_rules: list[str] = []
    passed_rules: list[str] = []
    try:
        needed = {}
        for name in registered.needs:
            try:
                needed[name] = await fixtures.get(name)
            except (Blocked, NotObserved, FixtureError) as exc:
                raise type(exc)(f"needs {name}: {exc}") from None
        mark = len(recorder.exchanges)  # the fixtures' requests are not this check's evidence
        judged = await registered.run(context, **needed)
        verdict, message, evidence = "passed", "", list(recorder.exchanges[mark:][:3])
        if isinstance(judged, list):  # a check that could judge only some of its rules says which
            passed_rules = [str(rule) for rule in judged]
    except CheckFailed as failed:
        verdict, message = "failed", str(failed)
        failed_rules, passed_rules = failed.rules, failed.passed_rules
        evidence = list(failed.evidence or recorder.exchanges[mark:][-3:])
    except CheckSkipped as skipped:
        verdict, message = "skipped", str(skipped)
    except Blocked as blocked:
        verdict, message = "blocked", str(blocked)
    except NotObserved as unseen:
        verdict, message = "not observed", str(unseen)
    except FixtureError as error:
        verdict, message = "error", str(error)
    except Exception as exc:  # a check that raises is reported with what it saw, and the run goes on
        verdict = "error"
        message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        evidence = list(recorder.exchanges[mark:][-3:])
    return CheckFinished(
        registered.id,
        registered.title,
        registered.severity,
        verdict,
        blank_values(message, recorder.secrets),
        (time.perf_counter() - started) * 1000,
        [blank_values(e.evidence(), recorder.secrets) for e in evidence],
        list(registered.rules),
        list(registered.needs),
        failed_rules,
        passed_rules,
    )


def _early(checks: list[Check]) -> list[str]:
    """The early fixtures the chosen checks need, directly or through other fixtures, in registration order."""
    needed: set[str] = set()
    todo = [name for c in checks for name in c.needs]
    while todo:
        name = todo.pop()
        if name not in needed and name in FIXTURES:
            needed.add(name)
            todo += FIXTURES[name].needs
    return [name for name, made in FIXTURES.items() if made.early and name in needed]


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _now() -> str:
    return format_timestamp(int(datetime.now(UTC).timestamp() * 1000))
