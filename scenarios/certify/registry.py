"""Checks: each with a stable id, a title and a severity, registered by a decorator."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from scenarios.certify.recorder import Exchange, Recorder

MANDATORY, ADVISORY = "mandatory", "advisory"


class CheckFailed(Exception):
    """A check's verdict: the server did not do what the contract says; with the exchanges that show it."""

    def __init__(self, message: str, *evidence: Exchange) -> None:
        super().__init__(message)
        self.evidence = [e for e in evidence if e is not None]


class CheckSkipped(Exception):
    """The check did not run. ``applies=False``: it does not apply (no other customer number, no webhooks);
    otherwise it could not be observed, and a mandatory check that was not observed is not a pass."""

    def __init__(self, message: str, applies: bool = True) -> None:
        super().__init__(message)
        self.applies = applies


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
    """What every check gets: the target, the recording client, the run's seed, and what earlier checks found."""

    target: Target
    http: Recorder
    rng: random.Random
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    found: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    receiver: Any = None  # the Receiver of this run, when the webhook check runs


CheckFunction = Callable[[Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    severity: str
    run: CheckFunction


REGISTRY: list[Check] = []


def check(id: str, title: str, severity: str = MANDATORY) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check; checks run in the order they are registered."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(c.id == id for c in REGISTRY):
            raise ValueError(f"check id {id} is registered twice")
        REGISTRY.append(Check(id, title, severity, function))
        return function

    return register


def expect(condition: bool, message: str, *evidence: Exchange) -> None:
    if not condition:
        raise CheckFailed(message, *evidence)
