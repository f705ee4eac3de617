"""Faults on demand: rules that hit matching API requests or webhook deliveries, every Nth or at a seeded rate.

A rule with ``times`` is spent after that many hits: a fault that strikes once and is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from supplier_sim.problems import Problem
from supplier_sim.profile import Delay, seconds
from supplier_sim.seeding import draw, rng_for

NO_DELAY = Delay(0, 0)
REQUEST_KINDS = frozenset({"latency", "error", "reset", "hang", "truncate"})
WEBHOOK_KINDS = frozenset({"duplicate", "reorder", "late", "withhold"})


@dataclass(frozen=True, slots=True)
class FaultRule:
    kind: str  # one of REQUEST_KINDS or WEBHOOK_KINDS
    method: str | None = None
    path: str | None = None
    customer: str | None = None
    event: str | None = None
    rate: float = 1.0
    every: int | None = None
    times: int | None = None  # at most this many hits, then the rule matches nothing
    status: int = 503
    retry_after: int | None = None
    latency: Delay = NO_DELAY
    hang_s: float = 30.0
    attempts: int = 1
    hold_s: float = 3600.0

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FaultRule:
        return cls(
            kind=raw["kind"],
            method=raw.get("method"),
            path=raw.get("path"),
            customer=raw.get("customer"),
            event=raw.get("event"),
            rate=raw.get("rate", 1.0),
            every=raw.get("every"),
            times=raw.get("times"),
            status=raw.get("status", 503),
            retry_after=raw.get("retryAfter"),
            latency=Delay.parse(raw.get("latency", 0)),
            hang_s=seconds(raw.get("hang", 30)),
            attempts=raw.get("attempts", 1),
            hold_s=seconds(raw.get("hold", "1h")),
        )

    def matches(self, request: web.Request) -> bool:
        customer = request.match_info.get("customerNumber")
        return (
            self.kind in REQUEST_KINDS
            and (self.method is None or request.method == self.method)
            and (self.path is None or self.path in request.path)
            and (self.customer is None or self.customer == customer)
        )

    def matches_event(self, customer: str, event_type: str) -> bool:
        return (
            self.kind in WEBHOOK_KINDS
            and (self.customer is None or self.customer == customer)
            and (self.event is None or self.event == event_type)
        )

    def describe(self) -> str:
        if self.kind == "error":
            return f"error {self.status}"
        return self.kind


class Faults:
    """The active rules; each keeps its own count of what it matched and hit, so a run replays exactly."""

    def __init__(self, rules: list[FaultRule], seed: int) -> None:
        self.rules = rules
        self.seed = seed
        self._seen = [0] * len(rules)
        self.hits = [0] * len(rules)  # per rule, how many requests or events it hit

    def pick(self, request: web.Request) -> tuple[FaultRule, int] | None:
        """The first request rule that matches and hits this request, with its count of matches, if any."""
        return self._first_hit(lambda rule: rule.matches(request))

    def pick_event(self, customer: str, event_type: str) -> tuple[FaultRule, int] | None:
        """The first webhook rule that matches and hits this event, with its count of matches, if any."""
        return self._first_hit(lambda rule: rule.matches_event(customer, event_type))

    def _first_hit(self, matches: Callable[[FaultRule], bool]) -> tuple[FaultRule, int] | None:
        for index, rule in enumerate(self.rules):
            spent = rule.times is not None and self.hits[index] >= rule.times
            if spent or not matches(rule):
                continue
            self._seen[index] += 1
            count = self._seen[index]
            if rule.every is not None:
                hit = count % rule.every == 0
            else:
                hit = rng_for(self.seed, "fault", index, count).random() < rule.rate
            if hit:
                self.hits[index] += 1
                return rule, count
        return None


async def inflict(rule: FaultRule, count: int, request: web.Request, handler: Any, seed: int) -> web.StreamResponse:
    """Answer as the rule says: slowly, with an error, not at all, or cut short.

    A slow answer is worked out first and sent late, as a busy server does: a client that gives up
    meanwhile leaves an order made whose answer it never sees. Reset and hang do no work at all.
    """
    if rule.kind == "latency":
        response = await handler(request)
        await asyncio.sleep(draw(rule.latency, rng_for(seed, "latency", rule.path, count)) / 1000)
        return response
    if rule.kind == "error":
        headers = (
            {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None and rule.status in (429, 503) else {}
        )
        titles = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}
        return Problem(
            rule.status,
            "injected-fault",
            titles[rule.status],
            "a fault injected by the simulator's profile",
            headers=headers,
        ).response()
    if rule.kind == "hang":
        await asyncio.sleep(rule.hang_s)  # the client must time out first
    if rule.kind in ("reset", "hang"):
        if request.transport is not None:
            request.transport.abort()  # the connection drops with no answer
        return web.Response(status=499)
    response = await handler(request)  # truncate: the real answer, cut in half
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        return web.Response(
            status=response.status, body=response.body[: len(response.body) // 2], content_type=response.content_type
        )
    return response
