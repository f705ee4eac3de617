"""The plan a load run hands to Locust, and the summary read back from Locust's statistics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.load.plan import API_KEY_ENV, FINAL_SUFFIX, PASSWORD_ENV, Plan, parse_mix
from scenarios.load.summary import MADE, broken, summarise


def test_a_mix_names_known_activities_with_whole_weights_and_leaves_out_the_rest() -> None:
    assert parse_mix("orders=4, polls=1") == {"catalog": 0, "orders": 4, "polls": 1, "dispatches": 0, "tokens": 0}
    for bad, said in [("shop=1", "'shop' is not an activity"), ("orders=x", "whole number"), ("orders=0", "0")]:
        with pytest.raises(ValueError, match=said):
            parse_mix(bad)


def test_the_plan_travels_without_its_secrets_and_takes_them_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = Plan("http://s", "1", "basic", "u", {"orders": 1}, 1, "1-ab", 0.1, 5.0, password="pw", api_key="k")
    assert "pw" not in plan.to_json() and "password" not in plan.to_json()
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    back = Plan.from_json(plan.to_json())
    assert back == plan and back.password == "from-env" and back.api_key is None


def test_the_summary_counts_failures_by_kind_and_orders_by_first_sends_answered_201(tmp_path: Path) -> None:
    def entry(name: str, requests: int, failures: int, p99: float | None = 9.0) -> dict[str, object]:
        cuts = {"p50": 1, "p95": 5, "p99": p99, "max": p99}
        return {"name": name, "requests": requests, "failures": failures, "requestsPerSecond": 1.0, **cuts}

    contract = "CatchResponseError('contract: /items/0/containerAmount: must be of type integer')"
    made = f"Idempotent-Replayed is missing on a new key ({MADE})"  # a 201 judged failed: its order exists
    again = f"a replay answered another order than the first send ({MADE})"  # a resend that made an order
    final = {
        "entries": [entry("POST /orders", 10, 2), entry("GET /products", 5, 3)],
        "total": entry("Aggregated", 15, 5, 120.0),
        "errors": [
            {"name": "GET /products", "method": "GET", "error": contract, "occurrences": 3},
            {"name": "POST /orders", "method": "POST", "error": "CatchResponseError('HTTP 503')", "occurrences": 1},
            {"name": "POST /orders", "method": "POST", "error": f"CatchResponseError('{made}')", "occurrences": 1},
            {"name": "POST /orders (replay)", "method": "POST", "error": f"CatchResponseError('{again}')"}
            | {"occurrences": 2},
        ],
    }
    (tmp_path / f"locust{FINAL_SUFFIX}").write_text(json.dumps(final))
    summary = summarise(tmp_path / "locust")
    assert summary["ordersCreated"] == 11 and summary["contractViolations"] == 3
    assert summary["errorsByKind"] == {"contract": 3, "http": 1, "check": 3}
    assert summary["errors"][0]["error"] == "contract: /items/0/containerAmount: must be of type integer"
    violated = "3 answers broke the contract"
    assert broken(summary, None, None) == [violated]  # whatever the thresholds
    assert broken(summary, 100, 0.5) == ["p99 120 ms is over --max-p99 100 ms", violated]
    assert broken(summary, 200, 0.2) == ["error rate 0.3333 is over --max-error-rate 0.2", violated]
    assert broken({**summary, "contractViolations": 0}, None, None) == []


def test_the_command_never_imports_locust_whose_gevent_would_patch_its_asyncio_process() -> None:
    check = "import sys, scenarios.command; print(sorted({'locust', 'gevent'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
