"""One retry policy: which failures are transient, and how long the client and the outbox back off."""

from __future__ import annotations

import random
from dataclasses import dataclass

from portal.service_layer.supplier_errors import ContractBroken, SupplierError, SupplierUnreachable

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})  # the supplier is busy or failing, not refusing


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a call is tried again: exponential backoff with full jitter, honouring Retry-After, within a deadline.

    Every call this client makes is safe to repeat: reads, logging in, the webhook's PUT and DELETE,
    and creating an order, which carries its Idempotency-Key.
    """

    attempts: int = 4
    base_s: float = 0.25
    cap_s: float = 8.0
    deadline_s: float = 30.0
    outbox_first_s: float = 1.0  # the outbox's pause after its first failed delivery, doubling each time
    outbox_longest_s: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_s < 0 or self.cap_s < self.base_s or self.deadline_s <= 0:
            raise ValueError(f"an impossible retry policy: {self}")
        if not 0 < self.outbox_first_s <= self.outbox_longest_s:
            raise ValueError(f"an impossible retry policy: {self}")

    @staticmethod
    def transient_status(status: int) -> bool:
        """Whether an answer with this status is worth another attempt: the supplier is busy or failing."""
        return status in TRANSIENT_STATUSES

    @classmethod
    def transient(cls, failure: SupplierError) -> bool:
        """Whether a failed call may succeed later: no answer, an answer that breaks the contract, a 429 or 5xx."""
        unanswered = isinstance(failure, SupplierUnreachable | ContractBroken)
        return unanswered or (failure.status is not None and cls.transient_status(failure.status))

    def pause(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): at least what the supplier asked for."""
        backoff = rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        return max(backoff, retry_after_s or 0.0)

    @property
    def outbox_longest_ms(self) -> int:
        return int(self.outbox_longest_s * 1000)

    def outbox_pause_ms(self, attempts: int, rng: random.Random) -> int:
        """The outbox's pause after ``attempts`` failed deliveries: doubling up to the longest, jittered."""
        pause = min(self.outbox_longest_ms, int(self.outbox_first_s * 1000) * 2**attempts)
        return int(pause * rng.uniform(0.5, 1.0))
