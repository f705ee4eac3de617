"""Runs the checks and emits a stream of plain events; reports and the console consume it."""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import aiohttp

from contracts.loader import CONTRACT_VERSION
from contracts.wire import format_timestamp
from scenarios.certify import checks  # noqa: F401 - registers the checks
from scenarios.certify.receiver import Receiver
from scenarios.certify.recorder import Credentials, Exchange, Recorder
from scenarios.certify.registry import MANDATORY, REGISTRY, CheckFailed, CheckSkipped, Context, Target


@dataclass(frozen=True, slots=True)
class RunStarted:
    target: str
    customer: str
    seed: int
    started_at: str
    contract_version: str
    harness_version: str
    checks: int


@dataclass(frozen=True, slots=True)
class CheckStarted:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class CheckFinished:
    id: str
    title: str
    severity: str
    verdict: str  # passed | failed | skipped | error
    message: str
    duration_ms: float
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunFinished:
    passed: bool  # every mandatory check passed
    counts: dict[str, int]
    results: list[CheckFinished]
    finished_at: str
    notes: list[str] = field(default_factory=list)


Event = RunStarted | CheckStarted | CheckFinished | RunFinished
Handler = Callable[[Event], None]


def harness_version() -> str:
    try:
        return metadata.version("orderportal-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


async def certify(
    target: Target,
    credentials: Credentials,
    handlers: list[Handler],
    sleep: Callable[[float], Awaitable[None]] | None = None,
    timeout_s: float = 10.0,
    receiver: Receiver | None = None,
) -> RunFinished:
    """Run every registered check against ``target``; the verdict is passed only if no mandatory check fails."""

    def emit(event: Event) -> None:
        for handler in handlers:
            handler(event)

    now = format_timestamp(int(datetime.now(UTC).timestamp() * 1000))
    emit(RunStarted(target.url, target.customer, target.seed, now, CONTRACT_VERSION, harness_version(), len(REGISTRY)))
    results = []
    async with aiohttp.ClientSession() as session:
        recorder = Recorder(session, target.url, target.customer, credentials, timeout_s)
        context = Context(target, recorder, random.Random(target.seed), receiver=receiver)
        if sleep is not None:
            context.sleep = sleep
        for registered in REGISTRY:
            emit(CheckStarted(registered.id, registered.title))
            started, mark = time.perf_counter(), len(recorder.exchanges)
            try:
                await registered.run(context)
                verdict, message, evidence = "passed", "", recorder.exchanges[mark:][:3]
            except CheckFailed as failed:
                verdict, message, evidence = "failed", str(failed), failed.evidence or recorder.exchanges[mark:][-3:]
            except CheckSkipped as skipped:
                verdict = "skipped" if not skipped.applies or registered.severity != MANDATORY else "not observed"
                message, evidence = str(skipped), []
            except Exception as exc:  # a check that crashes is reported with what it saw, and the run goes on
                verdict = "error"
                message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
                evidence = recorder.exchanges[mark:][-3:]
            result = CheckFinished(
                registered.id,
                registered.title,
                registered.severity,
                verdict,
                message,
                (time.perf_counter() - started) * 1000,
                [e.evidence() for e in evidence if isinstance(e, Exchange)],
            )
            results.append(result)
            emit(result)
    counts = {v: sum(r.verdict == v for r in results) for v in ("passed", "failed", "not observed", "skipped", "error")}
    # Certified means every mandatory check that applies passed: not observed is not passed.
    passed = not any(r.severity == MANDATORY and r.verdict in ("failed", "error", "not observed") for r in results)
    finished = RunFinished(
        passed, counts, results, format_timestamp(int(datetime.now(UTC).timestamp() * 1000)), context.notes
    )
    emit(finished)
    return finished
