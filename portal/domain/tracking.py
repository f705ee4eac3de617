"""Following an order's status at the supplier: forward only, and an illegal move is evidence, not news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.domain.model import StatusChange, StockOrder
from portal.domain.statuses import ACCEPTED, NEW, RANK, REJECTED, illegal_step, is_legal_move


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an observation does: apply it, ignore it (old news), or record it as a violation."""

    action: str  # "apply" | "ignore" | "violation"
    reason: str = ""


def _instant(timestamp: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(timestamp) if timestamp else None
    except ValueError:
        return None


def is_old_news(order: StockOrder, history: tuple[StatusChange, ...], updated_at: str | None) -> bool:
    """Whether an answer was taken before the last change we hold: its history a part of ours, and no later.

    A poll fetched while the order was NEW may be applied after a webhook moved it on: that answer
    is stale, not a supplier going back. Only an answer stamped after our last change that still
    shows less would be evidence of that.
    """
    held = order.status_history
    if len(history) >= len(held) or held[: len(history)] != history:
        return False
    answered = _instant(updated_at)
    known = [t for t in (_instant(order.status_updated_at), _instant(held[-1].at)) if t is not None]
    return answered is not None and bool(known) and answered <= max(known)


def judge(order: StockOrder, status: str, history: tuple[StatusChange, ...], updated_at: str | None = None) -> Verdict:
    """Judge a polled status, and the supplier's whole history of it, against what we know.

    ``updated_at`` is the answer's own stamp: without it, an answer cannot be shown to be old news.
    """
    current = order.portal_status or NEW
    step = illegal_step([change.status for change in history])
    if step is not None:
        index, before, after = step
        return Verdict("violation", f"the supplier's history moves {before or 'nothing'} -> {after} at entry {index}")
    if history[-1].status != status:
        return Verdict("violation", f"the order says {status} but its history ends in {history[-1].status}")
    if is_old_news(order, history, updated_at):
        return Verdict("ignore", f"old news: an answer from before the order became {current}")
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
