"""The fault matrix: every fault type against every flow shows the user the outcome the table expects."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.command import main
from scenarios.faultmatrix.engine import run_matrix
from scenarios.faultmatrix.expected import COLUMNS, EXPECTED, NOT_APPLICABLE
from scenarios.faultmatrix.faults import ROWS
from scenarios.faultmatrix.flows import FLOWS
from scenarios.faultmatrix.report import LEGEND, differences, expected_markdown

CLI = [sys.executable, "-m", "scenarios.command", "faults", "matrix"]


def test_the_expected_table_has_a_cell_for_every_fault_and_flow_and_webhook_faults_skip_request_flows() -> None:
    assert list(EXPECTED) == [row.name for row in ROWS]
    assert [flow.name for flow in FLOWS] == list(COLUMNS)
    for row in ROWS:
        for flow in FLOWS:
            not_applicable = row.rules(flow.event) is None
            assert not_applicable == (EXPECTED[row.name][flow.name] == NOT_APPLICABLE), (row.name, flow.name)


def test_the_readme_shows_the_expected_table_and_its_legend() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert expected_markdown() in readme and LEGEND in readme


async def test_every_cell_of_the_fault_matrix_shows_the_expected_outcome() -> None:
    cells = await run_matrix(seed=1)
    assert [(c.fault, c.flow) for c in cells] == [(row.name, flow.name) for row in ROWS for flow in FLOWS]
    differing = differences(cells)
    assert not differing, f"{len(differing)} cell(s) differ from the expected table:\n" + "\n".join(differing)


def test_the_faults_matrix_command_explains_itself() -> None:
    result = subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--seed" in result.stdout and "Markdown" in result.stdout


def test_the_faults_matrix_command_prints_the_rows_it_ran_as_a_markdown_table() -> None:
    result = subprocess.run([*CLI, "--fault", "error 503 (once)"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert table[0] == "| fault | " + " | ".join(COLUMNS) + " |"
    assert table[2].startswith("| error 503 (once) | ok after retry |") and len(table) == 3
    assert re.search(r"\[5 of 5, \d+s\] error 503 \(once\) / ", result.stderr)  # done, left and the time so far
    assert "all 5 cells as expected" in result.stderr


def test_the_faults_matrix_command_refuses_an_unknown_row_naming_the_rows() -> None:
    result = subprocess.run([*CLI, "--fault", "meteor"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "'meteor'" in result.stderr and "truncate (outage)" in result.stderr


def test_the_faults_matrix_command_exits_1_naming_each_cell_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EXPECTED["error 500 (once)"], "send", "502 supplier-problem")
    result = CliRunner().invoke(main, ["faults", "matrix", "--fault", "error 500 (once)", "--lanes", "1"])
    assert result.exit_code == 1, result.output
    assert "1 of 5 cells differ from the expected table:" in result.stderr
    assert "error 500 (once) / send:\n    expected: 502 supplier-problem\n    found:    ok after retry" in result.stderr


def test_the_faults_matrix_quiet_tells_no_progress_only_the_outcome() -> None:
    result = subprocess.run(
        [*CLI, "--fault", "error 503 (once)", "--quiet"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stderr.strip() == "all 5 cells as expected", result.stderr
