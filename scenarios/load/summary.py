"""The JSON summary of a load run, from Locust's final statistics, and the thresholds that set the exit code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from scenarios.load.plan import FINAL_SUFFIX

ORDERS = "POST /orders"  # the name of a first send: each one that passed created one order
RESENDS = "POST /orders (replay)"  # a resend with the same key: one that passed created nothing
# Said of an order send that failed its judgment though the server made an order: a 201 to a first send,
# or to a resend that answered another order (a server that ignores the Idempotency-Key).
MADE = "answered 201: an order was made"
_WRAPPED = re.compile(r"^CatchResponseError\((['\"])(.*)\1\)$", re.S)


def summarise(prefix: Path) -> dict[str, Any]:
    """Throughput and latency per endpoint, the failures by kind, and the orders the run created.

    The orders created are the first sends answered 201, whether or not the answer passed its
    judgment (a 201 that breaks the contract made its order all the same), and the resends that
    made another order; a send that got no answer may have made one too, which no client can tell.
    """
    final = orjson.loads(prefix.with_name(prefix.name + FINAL_SUFFIX).read_bytes())
    endpoints = {entry.pop("name"): entry for entry in sorted(final["entries"], key=lambda e: e["name"])}
    total = {k: v for k, v in final["total"].items() if k != "name"}
    errors = [
        {"endpoint": e["name"], "kind": _kind(text := _unwrapped(e["error"])), "error": text}
        | {"occurrences": e["occurrences"]}
        for e in final["errors"]
    ]
    errors.sort(key=lambda e: (-e["occurrences"], e["endpoint"], e["error"]))
    by_kind: dict[str, int] = {}
    for error in errors:
        by_kind[error["kind"]] = by_kind.get(error["kind"], 0) + error["occurrences"]
    placed = endpoints.get(ORDERS, {"requests": 0, "failures": 0})
    made_anyway = sum(e["occurrences"] for e in errors if e["endpoint"] in (ORDERS, RESENDS) and MADE in e["error"])
    return {
        "total": total,
        "errorRate": total["failures"] / total["requests"] if total["requests"] else 0.0,
        "endpoints": endpoints,
        "errorsByKind": by_kind,
        "contractViolations": by_kind.get("contract", 0),
        "errors": errors,
        "ordersCreated": placed["requests"] - placed["failures"] + made_anyway,
    }


def broken(summary: dict[str, Any], max_p99: float | None, max_error_rate: float | None) -> list[str]:
    """Each threshold the run broke, in words; empty when it passed."""
    found = []
    p99 = summary["total"]["p99"]
    if max_p99 is not None and p99 is not None and p99 > max_p99:
        found.append(f"p99 {p99:g} ms is over --max-p99 {max_p99:g} ms")
    if max_error_rate is not None and summary["errorRate"] > max_error_rate:
        found.append(f"error rate {summary['errorRate']:.4f} is over --max-error-rate {max_error_rate:g}")
    if summary["contractViolations"]:  # whatever the thresholds: an answer that breaks the contract is a bug
        found.append(f"{summary['contractViolations']} answers broke the contract")
    if not summary["total"]["requests"]:
        found.append("no request was answered or failed: nothing was measured")
    return found


def _unwrapped(error: str) -> str:
    match = _WRAPPED.match(error)
    return match.group(2) if match else error


def _kind(error: str) -> str:
    """contract, http, no-answer or check: what a reader filters the failures by."""
    if error.startswith("contract: "):
        return "contract"
    if error.startswith("HTTP "):
        return "http"
    if error.startswith("no answer"):
        return "no-answer"
    return "check"
