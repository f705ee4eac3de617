"""`orderportal faults matrix`: every fault type against every flow, as a Markdown table."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import click

from scenarios.faultmatrix.faults import ROWS


@click.group("faults")
def faults_group() -> None:
    """Faults of the supplier and its webhooks, and what the portal shows the user under each."""


@faults_group.command("matrix")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the simulator and the portal.")
@click.option(
    "--fault",
    "only",
    multiple=True,
    metavar="ROW",
    help="Run only this row, e.g. 'error 500 (once)' (repeatable); the default is every row.",
)
@click.option(
    "--lanes", default=3, show_default=True, type=click.IntRange(1, 8), help="Simulators that take the cells in turn."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress: only the outcome.")
def matrix(seed: int, only: tuple[str, ...], lanes: int, quiet: bool) -> None:
    """Run each fault against each flow on an in-process simulator and portal; print the matrix as Markdown.

    Progress goes to stderr. Exits 1, naming each cell, when a cell differs from the expected table.
    """
    unknown = [name for name in only if name not in {row.name for row in ROWS}]
    if unknown:
        listed = "\n  ".join(row.name for row in ROWS)
        raise click.UsageError(f"no fault row {', '.join(map(repr, unknown))}; the rows are:\n  {listed}")
    from scenarios.faultmatrix.engine import CellFinished, run_matrix
    from scenarios.faultmatrix.report import LEGEND, differences, markdown

    # The portal logs each failure it gets over as a warning; under faults those are the point.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    from scenarios.faultmatrix.flows import FLOWS

    done, total, began = 0, len([r for r in ROWS if not only or r.name in only]) * len(FLOWS), time.monotonic()

    def progress(cell: CellFinished) -> None:
        nonlocal done
        done += 1
        mark = "" if cell.ok else "  <- differs from the expected table"
        elapsed = time.monotonic() - began
        if not quiet or not cell.ok:
            click.echo(
                f"[{done} of {total}, {elapsed:.0f}s] {cell.fault} / {cell.flow}: {cell.outcome}{mark}", err=True
            )

    cells = asyncio.run(run_matrix(seed, progress, lanes, only))
    click.echo(markdown(cells))
    click.echo()
    click.echo(LEGEND)
    differing = differences(cells)
    if differing:
        click.echo(f"{len(differing)} of {len(cells)} cells differ from the expected table:", err=True)
        for text in differing:
            click.echo(text, err=True)
        sys.exit(1)
    click.echo(f"all {len(cells)} cells as expected", err=True)
