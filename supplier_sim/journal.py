"""The request journal: every API request and response the simulator served, for assertions."""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from contracts.redaction import redact_headers, redact_query, redacted_body, size_only
from contracts.wire import format_timestamp

RawHeaders = tuple[tuple[bytes, bytes], ...]


class Exchange(NamedTuple):
    """One request and its answer, kept raw; decoded and redacted only when read."""

    seq: int
    at_ms: int
    method: str
    path: str
    query: str
    request_headers: RawHeaders
    request_body: bytes | None
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes | None
    customer: str | None
    duration_ms: float
    fault: str | None = None  # the fault the profile inflicted on this request
    # A body that broke its contract may hold a secret under any name, where redaction by name misses it.
    body_refused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": format_timestamp(self.at_ms),
            "method": self.method,
            "path": self.path,
            "query": redact_query(self.query),
            "customerNumber": self.customer,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "fault": self.fault,
            "request": {
                "headers": redact_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in self.request_headers),
                "body": size_only(self.request_body) if self.body_refused else redacted_body(self.request_body),
            },
            "response": {"headers": redact_headers(self.response_headers), "body": redacted_body(self.response_body)},
        }


class Journal:
    """A bounded ring: recording is an append, so it costs the hot path almost nothing."""

    def __init__(self, size: int) -> None:
        # Plain tuples of strings, numbers and bytes: the garbage collector stops tracking
        # them (it never untracks a NamedTuple), so a full journal adds nothing to its pauses.
        self._items: deque[tuple[Any, ...]] = deque(maxlen=size)
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, exchange: tuple[Any, ...]) -> None:
        """Keep an exchange: its fields as a plain tuple in Exchange's order, not an Exchange (see above)."""
        self._items.append(exchange)

    def query(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        customer: str | None = None,
        since_ms: int | None = None,
        after: int | None = None,
        limit: int = 1000,
    ) -> list[Exchange]:
        """Exchanges that match every filter, oldest first: the newest ``limit`` of them, or, given ``after``
        (a sequence number), the first ``limit`` after it, so that a reader following ``lastSeq`` misses none.

        ``path`` matches anywhere in the path; ``customer`` matches the customer who signed in, or the one
        whose path it is (a request refused before its login was read, or hit by a fault, has only that).
        """
        mine = f"/api/v1/customers/{customer}/" if customer else ""
        found = []
        items = map(Exchange._make, reversed(self._items) if after is None else self._items)
        for item in items:
            if after is not None and item.seq <= after:
                continue
            if method and item.method != method.upper():
                continue
            if path and path not in item.path:
                continue
            if status is not None and item.status != status:
                continue
            if customer and item.customer != customer and not item.path.startswith(mine):
                continue
            if since_ms is not None and item.at_ms < since_ms:
                continue
            found.append(item)
            if len(found) >= limit:
                break
        if after is None:
            found.reverse()
        return found

    def mentioning(self, text: str, limit: int = 1000) -> list[Exchange]:
        """The newest exchanges about ``text`` (an order id), oldest first: those whose path names it, and the
        POST whose answer does (the order's creation, or a replay of it). A list that merely shows it is left out."""
        needle = text.encode()
        found = [
            item
            for item in map(Exchange._make, self._items)
            if text in item.path
            or (item.method == "POST" and item.response_body is not None and needle in item.response_body)
        ]
        return found[-limit:]
