"""The contract's rule catalogue (x-rules in contracts/openapi.yaml) and each rule's verdict in a run."""

from __future__ import annotations

from typing import Any

from contracts import contracts

# The verdict of a rule is the worst of its checks' verdicts for it, in this order.
WORST_FIRST = ("error", "failed", "blocked", "not observed", "not judged", "passed", "skipped")


def _verdict_for(rule: str, result: Any) -> str:
    """What one check's result says of one of its rules: a failure breaks the rules it names (all, when none)."""
    if result.verdict == "failed":
        if not result.failed_rules or rule in result.failed_rules:
            return "failed"
        return "passed" if rule in result.passed_rules else "not judged"
    if result.verdict == "passed" and result.passed_rules and rule not in result.passed_rules:
        return "not judged"
    return str(result.verdict)


def rule_catalogue() -> list[dict[str, str]]:
    """Every normative rule of Supplier API v1: id, rule, and notCheckable (why) for those certify cannot check."""
    rules: list[dict[str, str]] = (contracts().openapi or {}).get("x-rules", [])
    return rules


def rule_verdicts(results: list[Any], registered: list[Any]) -> list[dict[str, Any]]:
    """For each rule: the checks that check it, and its verdict in this run.

    ``results`` are the run's CheckFinished events; ``registered`` every registered check, so that
    a rule whose checks were left out of the run says so.
    """
    by_check = {r.id: r for r in results}
    rows = []
    for rule in rule_catalogue():
        checks = [c.id for c in registered if rule["id"] in c.rules]
        if "notCheckable" in rule:
            verdict = "not checkable"
        elif not checks:
            verdict = "not checked"
        else:
            ran = [_verdict_for(rule["id"], by_check[c]) for c in checks if c in by_check]
            verdict = min(ran, key=WORST_FIRST.index) if ran else "not selected"
        rows.append(
            {
                "id": rule["id"],
                "rule": rule["rule"],
                "checks": checks,
                "verdict": verdict,
                "why": rule.get("notCheckable", ""),
            }
        )
    return rows
