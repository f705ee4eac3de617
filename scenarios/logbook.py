"""The apps' log lines during a scenario, kept beside its steps rather than printed on the console.

A scenario may provoke a warning on purpose (a supplier breaking the contract is the point of one),
so a passing run prints only its narrative and verdict; a failed step carries the lines it caused.
"""

from __future__ import annotations

import logging
from types import TracebackType

APPS = ("portal", "supplier_sim")
FORMAT = "%(levelname)s %(name)s: %(message)s"


class Logbook(logging.Handler):
    """While entered, takes what the apps log (at their loggers' levels) instead of their handlers or stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter(FORMAT))
        self._propagated: dict[str, bool] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def __enter__(self) -> Logbook:
        for name in APPS:
            logger = logging.getLogger(name)
            self._propagated[name] = logger.propagate
            logger.addHandler(self)
            logger.propagate = False
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for name, propagate in self._propagated.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.propagate = propagate
