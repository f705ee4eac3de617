"""The checks over every answer of the run, so they run after all the others: its contract and its latency."""

from __future__ import annotations

from scenarios.certify.recorder import Exchange, latency_table
from scenarios.certify.registry import ADVISORY, LAST, CheckFailed, Context, NotObserved, check, expect


@check(
    "CONTRACT-01",
    "Every answer meets its contract: a declared status, JSON Schema, Content-Type, problem+json on every error",
    rules=["ERROR-R1", "ERROR-R2", "ERROR-R3"],
    scope=LAST,
)
async def contract(ctx: Context) -> None:
    answered = [e for e in ctx.http.exchanges if e.status is not None]
    if not answered:
        raise NotObserved("the server answered no request of the run, so no answer could be judged")
    undeclared = [e for e in answered if any(v.startswith(UNDECLARED) for v in e.violations)]
    problems = [e for e in answered if (e.status or 0) >= 400 and _shape(e)]
    others = [e for e in answered if (e.status or 0) < 400 and _shape(e)] + undeclared
    errors = [e for e in answered if (e.status or 0) >= 500]
    # Each rule judged on its own, so the report blames only the rules that were broken.
    judged = {
        "ERROR-R1": (problems, "error answer(s) are not the problem+json the contract asks for"),
        "ERROR-R2": (others, "answer(s) break their contract"),
        "ERROR-R3": (errors, "answer(s) were server errors"),
    }
    broken = {rule: found for rule, found in judged.items() if found[0]}
    if broken:
        lines = []
        for _rule, (found, what) in broken.items():
            listed = "; ".join(
                f"#{e.seq} {e.endpoint} -> {e.status}: {(e.violations or ['5xx'])[0]}" for e in found[:5]
            )
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            lines.append(f"{len(found)} {what} (#n is the request's number in the evidence): {listed}{more}")
        evidence = [e for found, _ in broken.values() for e in found[:3]]
        held = [rule for rule in judged if rule not in broken]
        raise CheckFailed("; ".join(lines), *evidence[:6], rules=list(broken), passed_rules=held)


UNDECLARED = "status "  # how the recorder words an answer whose status the contract does not declare


def _shape(exchange: Exchange) -> bool:
    """The answer breaks its schema, Content-Type or problem shape (not just its status)."""
    return any(not v.startswith(UNDECLARED) for v in exchange.violations)


@check("LATENCY-01", "Latency per endpoint: p50, p95 and p99; none over 2 s", severity=ADVISORY, scope=LAST)
async def latency(ctx: Context) -> None:
    if not any(e.status is not None for e in ctx.http.exchanges):
        raise NotObserved("the server answered no request of the run, so no latency could be measured")
    table = latency_table(ctx.http.exchanges)
    rows = [
        f"{endpoint}: n={row['n']:.0f} p50={row['p50']:.1f} ms p95={row['p95']:.1f} ms p99={row['p99']:.1f} ms"
        for endpoint, row in table.items()
    ]
    ctx.notes.extend(rows)
    slow = [r for r, row in zip(rows, table.values(), strict=True) if row["max"] > 2000]
    slowest = sorted((e for e in ctx.http.exchanges if e.duration_ms > 2000), key=lambda e: -e.duration_ms)
    expect(not slow, "answers slower than 2 s: " + "; ".join(slow), *slowest[:3])
