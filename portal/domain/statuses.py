"""The manual's order statuses at the supplier and their legal moves, stated by the portal itself.

``contracts.statuses`` states them for the simulator and certification; the portal's domain keeps
its own, so that it imports only the standard library, and a unit test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class Status(StrEnum):
    NEW = "NEW"
    PROCESSED = "PROCESSED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


NEW, PROCESSED, ACCEPTED, REJECTED = Status.NEW, Status.PROCESSED, Status.ACCEPTED, Status.REJECTED
LEGAL_MOVES: dict[str, frozenset[str]] = {
    NEW: frozenset({PROCESSED, REJECTED}),
    PROCESSED: frozenset({ACCEPTED, REJECTED}),
    ACCEPTED: frozenset(),
    REJECTED: frozenset(),
}
RANK: dict[str, int] = {NEW: 0, PROCESSED: 1, ACCEPTED: 2, REJECTED: 2}  # how far along; the finals share a rank
FINAL = frozenset(status for status, moves in LEGAL_MOVES.items() if not moves)


def is_legal_move(current: str, target: str) -> bool:
    return target in LEGAL_MOVES.get(current, frozenset())


def illegal_step(path: Sequence[str]) -> tuple[int, str, str] | None:
    """The first illegal step of a status history (index, from, to), or None when it is legal."""
    if not path or path[0] != NEW:
        return (0, "", path[0] if path else "")
    for index in range(1, len(path)):
        if not is_legal_move(path[index - 1], path[index]):
            return (index, path[index - 1], path[index])
    return None


def status_line(status: str | None, reached: Sequence[str] = ()) -> tuple[tuple[str, str], ...]:
    """The manual's line that says Orderportal: each step with "done", "current" or "todo"; empty before sending.

    The way is NEW → PROCESSED → ACCEPTED; a rejected order's line ends at REJECTED after the steps it reached.
    """
    if status is None:
        return ()
    path = [NEW.value, PROCESSED.value, ACCEPTED.value]
    if status == REJECTED:
        path = [NEW.value, *([PROCESSED.value] if PROCESSED in reached else []), REJECTED.value]
    if status not in path:  # a status the manual does not name: shown alone, never hidden
        return ((status, "current"),)
    at = path.index(status)
    return tuple((step, "done" if i < at else "current" if i == at else "todo") for i, step in enumerate(path))
