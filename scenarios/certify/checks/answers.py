"""The checks over every answer of the run, so they run after all the others: its contract and its latency."""

from __future__ import annotations

import statistics
from collections import defaultdict

from scenarios.certify.registry import ADVISORY, LAST, Context, check, expect


@check(
    "CONTRACT-01",
    "Every answer meets its contract: a declared status, JSON Schema, Content-Type, problem+json on every error",
    rules=["ERROR-R1", "ERROR-R2", "ERROR-R3"],
    scope=LAST,
)
async def contract(ctx: Context) -> None:
    broken = [e for e in ctx.http.exchanges if e.violations]
    listed = "; ".join(f"#{e.seq} {e.endpoint} -> {e.status}: {e.violations[0]}" for e in broken[:5])
    expect(not broken, f"{len(broken)} answer(s) break the contract: {listed}", *broken[:5])
    errors = [e for e in ctx.http.exchanges if e.status is not None and e.status >= 500]
    expect(not errors, f"{len(errors)} answer(s) were server errors", *errors[:5])


@check("LATENCY-01", "Latency per endpoint: p50, p95 and p99; none over 2 s", severity=ADVISORY, scope=LAST)
async def latency(ctx: Context) -> None:
    by_endpoint: defaultdict[str, list[float]] = defaultdict(list)
    for exchange in ctx.http.exchanges:
        if exchange.status is not None:
            by_endpoint[exchange.endpoint].append(exchange.duration_ms)
    rows = []
    for endpoint, times in sorted(by_endpoint.items()):
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        rows.append(f"{endpoint}: n={len(times)} p50={cuts[49]:.1f} ms p95={cuts[94]:.1f} ms p99={cuts[98]:.1f} ms")
    ctx.notes.extend(rows)
    slow = [r for r, (e, t) in zip(rows, sorted(by_endpoint.items()), strict=True) if max(t) > 2000]
    slowest = sorted((e for e in ctx.http.exchanges if e.duration_ms > 2000), key=lambda e: -e.duration_ms)
    expect(not slow, "answers slower than 2 s: " + "; ".join(slow), *slowest[:3])
