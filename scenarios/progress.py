"""A long search told as it goes: a bar on a terminal, a plain line every tenth of the way in a log."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import click


class Progress:
    """Counts the runs of a search until one fails; after that the runs are hypothesis shrinking it."""

    def __init__(self, total: int, terminal: bool, quiet: bool = False) -> None:
        self.total, self.runs, self.broke, self.quiet = total, 0, False, quiet
        self.every = max(1, total // 10)
        self.bar: Any = click.progressbar(length=total, label="runs") if terminal else None

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None

    def ran(self, failed: bool) -> None:
        if self.broke:
            return
        self.runs += 1
        if failed:
            self.broke = True
            self.close()
            click.echo(f"run {self.runs} broke an invariant; shrinking it to the shortest run that still fails")
        elif self.bar is not None:
            self.bar.update(1)
        elif not self.quiet and self.runs % self.every == 0 and self.runs <= self.total:
            click.echo(f"{self.runs} of {self.total} runs")
