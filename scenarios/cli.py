"""`orderportal scenarios`: list the bundled scenarios, run some or all of them, write reports."""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from pathlib import Path

import click

from scenarios.cache import CACHE_DIR_DEFAULT, default_cache_dir
from scenarios.progress import Progress
from scenarios.reporting import console, write_html, write_json, write_junit
from scenarios.runner import Event, Scenario, ScenarioFinished, bundled, load, run


@click.group("scenarios")
def scenarios_group() -> None:
    """Declarative end-to-end scenarios against the simulator (virtual clock) and a fresh portal."""


@scenarios_group.command("list")
def list_scenarios() -> None:
    """The bundled scenarios and what each shows."""
    for scenario in bundled():
        click.echo(f"{scenario.name:<30} {scenario.description}")


@scenarios_group.command("run")
@click.argument("names", nargs=-1)
@click.option(
    "--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A scenario YAML of your own."
)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a JSON report.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report.")
@click.option("--quiet", "-q", is_flag=True, help="No progress: only failures and the outcome.")
def run_scenarios(
    names: tuple[str, ...],
    files: tuple[str, ...],
    junit: Path | None,
    json_path: Path | None,
    html: Path | None,
    quiet: bool,
) -> None:
    """Run NAMES (all bundled ones when none are given, unless --file is); exit 1 on any failure."""
    library = {s.name: s for s in bundled()}
    unknown = [n for n in names if n not in library]
    if unknown:
        raise click.UsageError(f"unknown scenario(s) {', '.join(unknown)}; `orderportal scenarios list` shows them")
    try:
        chosen = [library[n] for n in names] + [load(f) for f in files]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    results = asyncio.run(_run_all(chosen or list(library.values()), quiet))
    for writer, target in ((write_junit, junit), (write_json, json_path), (write_html, html)):
        if target is not None:
            writer(results, target)
            click.echo(f"report: {target}")
    failed = [r.name for r in results if not r.ok]
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@scenarios_group.command("fuzz")
@click.option("--examples", default=100, show_default=True, help="How many random runs to try.")
@click.option("--steps", default=40, show_default=True, help="Steps in each run at most.")
@click.option("--seed", default=0, show_default=True, help="Seed of the search: the same seed finds the same runs.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Where hypothesis keeps the failing runs it replays first next time [default: {CACHE_DIR_DEFAULT}].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress: only failures and the outcome.")
def fuzz(examples: int, steps: int, seed: int, cache_dir: Path | None, quiet: bool) -> None:
    """Search for a sequence of actions that breaks an invariant of the retailer-and-supplier model.

    Progress is a bar on a terminal and a line every tenth of the runs otherwise; a failure prints
    the shortest sequence found and the command that reproduces it.
    """
    from hypothesis.configuration import set_hypothesis_home_dir

    from scenarios.fuzzing import Budget, search

    budget = Budget(examples, steps, seed)
    folder = cache_dir or default_cache_dir()
    set_hypothesis_home_dir(folder)  # its other caches too: no .hypothesis/ where the user stands
    click.echo(f"searching {examples} runs of up to {steps} steps, seed {seed}; examples kept in {folder}")
    with Progress(examples, terminal=sys.stdout.isatty() and not quiet, quiet=quiet) as progress:
        try:
            search(budget, cache_dir=folder, on_run=progress.ran, command=budget.command(cache_dir))
        except Exception as exc:
            progress.close()
            click.echo("".join(traceback.format_exception(exc)).rstrip())  # its last line: the command to rerun
            sys.exit(1)
    click.echo(f"no invariant broke in {progress.runs} runs")


async def _run_all(chosen: list[Scenario], quiet: bool = False) -> list[ScenarioFinished]:
    """Each scenario in turn, each announced with how many are done and left, and the time so far."""
    shown, results, began = console(click.echo), [], time.monotonic()

    def handle(event: Event) -> None:
        if not quiet or not getattr(event, "ok", True):  # quiet: only what failed
            shown(event)

    for number, scenario in enumerate(chosen, start=1):
        if not quiet:
            click.echo(f"[{number} of {len(chosen)}, {time.monotonic() - began:.0f}s] {scenario.name}")
        results.append(await run(scenario, handle))
    return results
