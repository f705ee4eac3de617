"""Following an order's status at the supplier: forward only, and an illegal move is evidence, not news."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.model import StatusChange, StockOrder
from portal.domain.statuses import ACCEPTED, NEW, RANK, REJECTED, illegal_step, is_legal_move


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an observation does: apply it, ignore it (old news), or record it as a violation."""

    action: str  # "apply" | "ignore" | "violation"
    reason: str = ""


def judge(order: StockOrder, status: str, history: tuple[StatusChange, ...]) -> Verdict:
    """Judge a polled status, and the supplier's whole history of it, against what we know."""
    current = order.portal_status or NEW
    step = illegal_step([change.status for change in history])
    if step is not None:
        index, before, after = step
        return Verdict("violation", f"the supplier's history moves {before or 'nothing'} -> {after} at entry {index}")
    if history[-1].status != status:
        return Verdict("violation", f"the order says {status} but its history ends in {history[-1].status}")
    if status == current:
        return Verdict("apply" if len(history) > len(order.status_history) else "ignore")
    if current in (ACCEPTED, REJECTED):
        return Verdict("violation", f"the order was {current}, which is final, and is now reported {status}")
    if RANK[status] < RANK[current]:
        return Verdict("violation", f"the order went back from {current} to {status}")
    return Verdict("apply")  # forward, possibly skipping PROCESSED


def judge_event(order: StockOrder, previous: str, status: str) -> Verdict:
    """A pushed event carries one move: a late one is old news, an illegal or contradicting one evidence."""
    if not is_legal_move(previous, status):
        return Verdict("violation", f"the supplier reports a move {previous} -> {status}, which is not legal")
    current = order.portal_status or NEW
    if status == current:
        return Verdict("ignore", "already known")
    if RANK[status] < RANK[current]:
        return Verdict("ignore", f"late: the order is already {current}")
    if RANK[status] == RANK[current]:
        return Verdict("violation", f"the order was {current}, which is final, and is now reported {status}")
    return Verdict("apply")
