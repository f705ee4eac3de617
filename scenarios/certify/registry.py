"""Checks and fixtures, registered by decorators, the way pytest does it.

A check is an async function whose parameters after ``ctx`` name the fixtures it needs; a fixture
is an async function built the same way. The runner computes each fixture once per run, when the
first check that needs it runs. When a fixture cannot be had, only the checks that need it are
blocked, and say by what; no check reads another check's results.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from scenarios.certify.recorder import Recorder

MANDATORY, ADVISORY = "mandatory", "advisory"
EACH, LAST = "each", "last"  # a check of its own requests, or one over every answer of the run
PLUGIN_GROUP = "orderportal.certify.checks"  # an entry point there is a module that registers checks


class Evidence(Protocol):
    """What shows a verdict in the report: an exchange, or a webhook delivery."""

    def evidence(self) -> dict[str, Any]: ...


class CheckFailed(Exception):
    """A check's verdict: the server did not do what the contract says; with the exchanges that show it."""

    def __init__(
        self,
        message: str,
        *evidence: Evidence | None,
        rules: Iterable[str] = (),
        passed_rules: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.evidence = [e for e in evidence if e is not None]
        # Which of the check's rules the failure breaks (none named: all of them), and which it showed held.
        self.rules, self.passed_rules = list(rules), list(passed_rules)


class CheckSkipped(Exception):
    """The check does not apply to this server or run: no other customer number, no webhooks."""


class NotObserved(Exception):
    """What the check judges did not happen within the wait: the message says what was waited for, how long."""


class Blocked(Exception):
    """A prerequisite the server did not provide: a fixture that could not be had, and why."""


@dataclass
class Target:
    url: str
    customer: str
    other_customer: str | None
    wait_s: float
    poll_s: float
    seed: int
    run_id: str
    webhook_url: str | None = None  # where the server must deliver events; None: no webhook check


@dataclass
class Context:
    """What every check and fixture gets: the target, the recording client, the run's seed and its notes."""

    target: Target
    http: Recorder
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    notes: list[str] = field(default_factory=list)
    receiver: Any = None  # the Receiver of this run, when the webhook checks run
    cleanups: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    waited_s: float = 0.0  # the run's waiting so far: every wait of every fixture shares --wait
    # Told what the run waits for, and how long it has waited of --wait: the console shows it.
    progress: Callable[[str, float, float], None] = lambda what, waited_s, wait_s: None

    async def wait(self, what: str) -> bool:
        """Wait one poll interval for ``what``, unless the run has waited its --wait in all; True when it waited."""
        if self.waited_s >= self.target.wait_s:
            return False
        self.progress(what, self.waited_s, self.target.wait_s)
        await self.sleep(self.target.poll_s)
        self.waited_s += self.target.poll_s
        return True


# A check returns None, or the list of its rules it could judge (the others are "not judged" in the report).
CheckFunction = Callable[..., Awaitable[list[str] | None]]
FixtureFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    severity: str
    run: CheckFunction
    needs: tuple[str, ...]
    rules: tuple[str, ...]  # the ids of the contract's rules (x-rules in contracts/openapi.yaml) it checks
    scope: str = EACH
    origin: str = ""  # the module that registered it


@dataclass(frozen=True, slots=True)
class Fixture:
    name: str
    make: FixtureFunction
    needs: tuple[str, ...]
    doc: str
    # Made when the run starts, if a chosen check needs it: the orders certify places then all
    # progress at the server during one shared wait, instead of one wait after another.
    early: bool = False


REGISTRY: list[Check] = []
FIXTURES: dict[str, Fixture] = {}


def _needs(function: Callable[..., Any]) -> tuple[str, ...]:
    """The fixtures a function asks for: its parameters after ``ctx``."""
    return tuple(list(inspect.signature(function).parameters)[1:])


def check(
    id: str, title: str, *, rules: Iterable[str] = (), severity: str = MANDATORY, scope: str = EACH
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check; its parameters after ``ctx`` are the fixtures it needs."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(c.id == id for c in REGISTRY):
            raise ValueError(f"check id {id} is registered twice")
        REGISTRY.append(
            Check(id, title, severity, function, _needs(function), tuple(rules), scope, function.__module__)
        )
        return function

    return register


def fixture(
    function: FixtureFunction | None = None, *, early: bool = False
) -> Any:  # FixtureFunction, or a decorator that registers one, as ``@fixture(early=True)``
    """Register a fixture under the function's name; its parameters after ``ctx`` are the fixtures it needs."""

    def register(function: FixtureFunction) -> FixtureFunction:
        name = function.__name__
        if name in FIXTURES:
            raise ValueError(f"fixture {name} is registered twice")
        doc = (function.__doc__ or "").strip().split("\n")[0]
        FIXTURES[name] = Fixture(name, function, _needs(function), doc, early)
        return function

    return register(function) if function is not None else register


def expect(condition: bool, message: str, *evidence: Evidence | None, rules: Iterable[str] = ()) -> None:
    """Fail the check unless ``condition``; ``rules``: which of its rules the failure breaks (default: all)."""
    if not condition:
        raise CheckFailed(message, *evidence, rules=rules)


def select(checks: list[Check], include: Iterable[str], exclude: Iterable[str]) -> list[Check]:
    """The checks whose ids match an ``include`` selector (all when none) and no ``exclude`` one.

    A selector is an id or the start of ids, case-insensitive: ``AUTH`` takes AUTH-01..; ``ORDER-0``, ORDER-01..09.
    An unknown selector is an error, so that a typo never certifies less than was meant.
    """
    include, exclude = [s.upper() for s in include], [s.upper() for s in exclude]
    for selector in (*include, *exclude):
        if not any(c.id.upper().startswith(selector) for c in checks):
            raise ValueError(f"no check id starts with {selector}; the ids are {', '.join(c.id for c in checks)}")

    def matches(check: Check, selectors: list[str]) -> bool:
        return any(check.id.upper().startswith(s) for s in selectors)

    return [c for c in checks if (not include or matches(c, include)) and not matches(c, exclude)]
