"""The model searched on a budget: a seed, a count of runs told as they end, and examples kept where the user says.

Hypothesis keeps the runs that failed in an example database and replays them first next time, so a
failure found once stays found; the database lives in a cache folder, not in the folder the user
happens to run from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import HypothesisException
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


@dataclass(frozen=True, slots=True)
class Budget:
    """How long to search: runs, steps in each run at most, and the seed that makes the search repeatable."""

    examples: int
    steps: int
    seed: int

    def command(self, cache_dir: Path | None = None) -> str:
        """The command that runs this search again."""
        where = f" --cache-dir {cache_dir}" if cache_dir is not None else ""
        return f"orderportal scenarios fuzz --examples {self.examples} --steps {self.steps} --seed {self.seed}{where}"


def search(
    budget: Budget,
    machine: type[RuleBasedStateMachine] | None = None,
    cache_dir: Path | None = None,
    on_run: Callable[[bool], None] = lambda failed: None,
    command: str | None = None,
) -> None:
    """Run the model (or ``machine``) on the budget; raise the shortest failure, noted with the command to rerun.

    ``on_run`` hears each run end, and whether it failed; the runs after a failure are hypothesis
    shrinking it. Without ``cache_dir`` no example is kept.
    """
    if machine is None:
        from scenarios.machine import RetailerAndSupplier

        machine = RetailerAndSupplier
    # hypothesis reads a stateful test's seed from the machine class itself.
    seeded = hypothesis.seed(budget.seed)(_told(machine, budget.seed, on_run))
    settings = hypothesis.settings(
        max_examples=budget.examples,
        stateful_step_count=budget.steps,
        deadline=None,
        database=None if cache_dir is None else DirectoryBasedExampleDatabase(cache_dir / "examples"),
        suppress_health_check=list(HealthCheck),
    )
    try:
        run_state_machine_as_test(seeded, settings=settings)
    except Exception as exc:
        exc.add_note(f"reproduce: {command or budget.command(cache_dir)}")
        raise


def _told(machine: type[RuleBasedStateMachine], seed: int, on_run: Callable[[bool], None]) -> type[Any]:
    """The machine, telling ``on_run`` as each run ends whether it failed."""

    def teardown(self: RuleBasedStateMachine) -> None:
        # hypothesis tears a machine down in a finally clause: an exception on its way out is the run failing.
        failure = sys.exc_info()[1]
        try:
            machine.teardown(self)
        finally:
            on_run(isinstance(failure, Exception) and not isinstance(failure, HypothesisException))

    return type(f"{machine.__name__}Seed{seed}", (machine,), {"teardown": teardown})
