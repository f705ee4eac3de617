"""The order statuses of Supplier API v1 and their legal moves."""

from __future__ import annotations

from collections.abc import Sequence

NEW, REJECTED, PROCESSED, ACCEPTED = "NEW", "REJECTED", "PROCESSED", "ACCEPTED"
STATUSES = (NEW, REJECTED, PROCESSED, ACCEPTED)
LEGAL_MOVES: dict[str, frozenset[str]] = {
    NEW: frozenset({PROCESSED, REJECTED}),
    PROCESSED: frozenset({ACCEPTED, REJECTED}),
    REJECTED: frozenset(),
    ACCEPTED: frozenset(),
}


FINAL_STATUSES = frozenset(status for status, moves in LEGAL_MOVES.items() if not moves)


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
