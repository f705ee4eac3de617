"""Wire formats shared by both sides: RFC 3339 timestamps in UTC, at millisecond precision."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

DAY_MS = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
LAST_INSTANT_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last one RFC 3339 can write


def later(ms: int, by_ms: int | float) -> int:
    """``ms`` plus a duration, held at the last instant a timestamp can write, so that it always formats."""
    return int(min(ms + by_ms, LAST_INSTANT_MS))


def format_timestamp(ms: int) -> str:
    """Epoch milliseconds as ``2026-01-02T08:00:00.000Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_timestamp(text: str) -> int:
    """An RFC 3339 timestamp (any offset) as epoch milliseconds; ValueError when it is not one."""
    if "T" not in text.upper() or len(text) < 20:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp")
    moment = datetime.fromisoformat(text.upper())
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return (moment - EPOCH) // MILLISECOND


def format_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def basic_authorization(username: str, password: str) -> str:
    """The Authorization header value of HTTP Basic (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
