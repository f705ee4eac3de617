"""The matrix's rows: each fault type, at one or two strengths, as the simulator's fault rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supplier_sim.faults import WEBHOOK_KINDS

FAILING_KINDS = frozenset({"error", "reset", "hang", "truncate"})  # a hit request gets no usable answer
HANG = "1s"  # longer than the matrix portal's timeout: every hung attempt times out


@dataclass(frozen=True, slots=True)
class FaultRow:
    """One row: a fault rule that hits the portal's requests to the supplier, or the supplier's webhook events."""

    name: str
    kind: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def webhook(self) -> bool:
        return self.kind in WEBHOOK_KINDS

    def rules(self, event: str | None) -> list[dict[str, Any]] | None:
        """The rules for a flow that receives ``event`` webhooks (None: none); None when the fault cannot apply.

        A request fault hits every Supplier API request while it is on; a webhook fault, the flow's events.
        """
        rule = {"kind": self.kind, **dict(self.options)}
        if not self.webhook:
            return [rule]
        return None if event is None else [{**rule, "event": event}]


def _strengths(name: str, kind: str, **options: Any) -> tuple[FaultRow, FaultRow]:
    """A fault that strikes once and is spent (the retry should get over it), and one that lasts (an outage)."""
    return (
        FaultRow(f"{name} (once)", kind, (*options.items(), ("times", 1))),
        FaultRow(f"{name} (outage)", kind, tuple(options.items())),
    )


ROWS: tuple[FaultRow, ...] = (
    FaultRow("latency 100 ms", "latency", (("latency", "100ms"),)),
    *_strengths("error 500", "error", status=500),
    *_strengths("error 503", "error", status=503),
    *_strengths("error 429, Retry-After 1 s", "error", status=429, retryAfter=1),
    *_strengths("reset", "reset"),
    *_strengths("hang 1 s", "hang", hang=HANG),
    *_strengths("truncate", "truncate"),
    FaultRow("webhook duplicate", "duplicate"),
    FaultRow("webhook reorder (first held)", "reorder", (("times", 1),)),
    FaultRow("webhook late 2 h", "late", (("latency", "2h"),)),
    FaultRow("webhook withhold 1 attempt", "withhold", (("attempts", 1),)),
)
