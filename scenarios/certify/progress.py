"""The run on a terminal: a bar of checks done and left, the check running, what it waits for, the time."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from scenarios.certify.reports import console
from scenarios.certify.runner import CheckFinished, CheckStarted, Event, RunFinished, RunStarted, Waiting
from scenarios.templating import clock


class LiveProgress:
    """A live bar, with each finished check printed above it; the verdict lines as the plain console has them."""

    def __init__(self, terminal: Console | None = None) -> None:
        self.terminal = terminal or Console(highlight=False)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.terminal,
            transient=True,
        )
        self.task = self.bar.add_task("starting", total=None)
        self.running = ""
        self.plain = console(lambda text: self.terminal.print(Text(text)))

    def __enter__(self) -> LiveProgress:
        self.bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.bar.stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.bar.update(self.task, total=event.checks)
            self.plain(event)
        elif isinstance(event, CheckStarted):
            self.running = f"{event.id} {event.title}"
            self.bar.update(self.task, description=self.running)
        elif isinstance(event, Waiting):
            waited = f"{clock(event.waited_s)} of {clock(event.wait_s)}"
            self.bar.update(self.task, description=f"{self.running}: {event.what} ({waited})")
        elif isinstance(event, CheckFinished):
            self.bar.advance(self.task)
            self.plain(event)
        elif isinstance(event, RunFinished):
            self.bar.stop()
            self.plain(event)
