"""bench/bench_portal.py as the README says to run it, small: it runs, and prints each figure beside its baseline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_portal_bench_runs_and_gives_each_ratio_with_the_import_floor() -> None:
    command = [sys.executable, "bench/bench_portal.py", "--products", "2000", "--orders", "10"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"import 2,000 products through the portal: +[0-9.]+ s", out), out
    assert re.search(r"ratio portal / bare: [0-9.]+x .*; by round: [0-9.]+ [0-9.]+ [0-9.]+\)", out), out
    assert re.search(r"in a fresh process of its own: [0-9.]+ s; the import is [0-9.]+x that", out), out
    assert re.search(r"checking them against the contract [0-9.]+ s: with the bare insert, a floor of [0-9.]+x", out)
    assert re.search(r"10 stock orders, cart to booked receipt: +[0-9.]+ s", out), out
    assert re.search(r"ratio: [0-9.]+x", out), out
