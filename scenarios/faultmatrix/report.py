"""The fault matrix as the user reads it: a Markdown table, a legend, and the cells that differ from the table."""

from __future__ import annotations

from scenarios.faultmatrix.engine import CellFinished
from scenarios.faultmatrix.expected import COLUMNS, EXPECTED

LEGEND = """\
Each cell is what the user sees through the portal's API while the fault is on, and after it is lifted.
Request faults hit every Supplier API request while on; "(once)" hits the first one only. Under a
request fault the portal follows sent orders by the worker's catch-up poll (no webhook), under a
webhook fault by webhook first, with the catch-up behind it. In every cell the supplier holds each
sent order exactly once, no portal row is lost, no answer is a 500 or shows a secret."""


def markdown(cells: list[CellFinished]) -> str:
    """Rows in the order of the cells, a column per flow."""
    rows: dict[str, dict[str, str]] = {}
    for cell in cells:
        rows.setdefault(cell.fault, {})[cell.flow] = cell.outcome
    lines = [
        "| fault | " + " | ".join(COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for fault, outcomes in rows.items():
        texts = (fault, *(outcomes.get(column, "") for column in COLUMNS))
        lines.append("| " + " | ".join(_escaped(text) for text in texts) + " |")
    return "\n".join(lines)


def expected_markdown() -> str:
    """The expected table, as a run that meets it prints it."""
    return markdown(
        [CellFinished(fault, flow, text, text, 0.0) for fault, row in EXPECTED.items() for flow, text in row.items()]
    )


def differences(cells: list[CellFinished]) -> list[str]:
    """Each cell whose outcome differs from the expected table, with both."""
    return [
        f"{cell.fault} / {cell.flow}:\n    expected: {cell.expected}\n    found:    {cell.outcome}"
        for cell in cells
        if not cell.ok
    ]


def _escaped(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
