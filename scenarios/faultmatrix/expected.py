"""The outcome each cell of the fault matrix must show the user: one table, a row per fault, a column per flow."""

from __future__ import annotations

COLUMNS = ("coupling", "catalog import", "send", "status tracking", "dispatch")
NOT_APPLICABLE = "—"  # a webhook fault cannot touch a flow that receives no webhooks

_OK = ("ok", "ok", "ok", "caught up by polling", "caught up by polling")
_TRANSIENT = (
    "ok after retry",
    "ok after retry",
    "ok after retry",
    "caught up by polling after retry",
    "caught up by polling after retry",
)
_OUTAGE = (
    "502 coupling-failed; still uncoupled; ok when tried again",
    "502 supplier-problem; nothing imported; ok when tried again",
    "202 queued in outbox; sent once on delivery",
    "poll failed; caught up once lifted",
    "poll failed; caught up once lifted",
)
# An answer cut short is read again like no answer at all; one broken on every attempt is kept as
# evidence where the user acted. The worker's polls keep none: an outage would pile them up.
_TRUNCATED_OUTAGE = (
    "502 coupling-failed; still uncoupled; ok when tried again; 1 contract violation kept",
    "502 supplier-problem; nothing imported; ok when tried again; 1 contract violation kept",
    "202 queued in outbox; sent once on delivery; 1 contract violation kept",
    "poll failed; caught up once lifted",
    "poll failed; caught up once lifted",
)
_WEBHOOK = (NOT_APPLICABLE,) * 3

_TABLE: dict[str, tuple[str, str, str, str, str]] = {
    "latency 100 ms": _OK,
    "error 500 (once)": _TRANSIENT,
    "error 500 (outage)": _OUTAGE,
    "error 503 (once)": _TRANSIENT,
    "error 503 (outage)": _OUTAGE,
    "error 429, Retry-After 1 s (once)": _TRANSIENT,
    "error 429, Retry-After 1 s (outage)": _OUTAGE,
    "reset (once)": _TRANSIENT,
    "reset (outage)": _OUTAGE,
    "hang 1 s (once)": _TRANSIENT,
    "hang 1 s (outage)": _OUTAGE,
    "truncate (once)": _TRANSIENT,
    "truncate (outage)": _TRUNCATED_OUTAGE,
    "webhook duplicate": (*_WEBHOOK, "by webhook; duplicate ignored", "by webhook; duplicate ignored"),
    "webhook reorder (first held)": (
        *_WEBHOOK,
        "by webhook; older event ignored",
        "by webhook; out of order, both kept",
    ),
    "webhook late 2 h": (
        *_WEBHOOK,
        "caught up by polling; late events ignored",
        "caught up by polling; late events ignored",
    ),
    "webhook withhold 1 attempt": (
        *_WEBHOOK,
        "by webhook on the supplier's retry",
        "by webhook on the supplier's retry",
    ),
}

EXPECTED: dict[str, dict[str, str]] = {row: dict(zip(COLUMNS, cells, strict=True)) for row, cells in _TABLE.items()}
