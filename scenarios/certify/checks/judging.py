"""What several families of checks judge alike: problem+json answers and the fields they name."""

from __future__ import annotations

from typing import Any

from contracts.wire import parse_timestamp
from scenarios.certify.recorder import Exchange


def is_problem(exchange: Exchange) -> bool:
    return exchange.content_type == "application/problem+json" and isinstance(exchange.body, dict)


def pointers(exchange: Exchange) -> list[str]:
    """The JSON pointers a problem's ``errors`` name, lower-cased (header names are case-insensitive)."""
    errors = exchange.fields.get("errors") if is_problem(exchange) else None
    if not isinstance(errors, list):
        return []
    return [str(e.get("pointer", "")).lower() for e in errors if isinstance(e, dict)]


def refusal_problem(answer: Exchange, case: str, pointer: str | None) -> str | None:
    """Why ``answer`` is not a 4xx problem+json naming ``pointer`` (None: it is)."""
    if not (answer.status is not None and 400 <= answer.status < 500):
        return f"{case}: {answer.said}, not a 4xx"
    if not is_problem(answer):
        return f"{case}: the {answer.status} is not problem+json"
    named = pointers(answer)
    if pointer is not None and pointer.lower() not in named:
        return f"{case}: errors name {named or 'nothing'}, not {pointer}"
    return None


def instant(value: object) -> int | None:
    """A timestamp field in epoch milliseconds, or None when it is no timestamp (CONTRACT-01 judges that)."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def items_of(value: object) -> list[dict[str, Any]]:
    """The objects of a list field, or nothing when it is not a list."""
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


def before(value: object, since_ms: int) -> bool:
    """A timestamp field before ``since_ms``; a missing or malformed one is CONTRACT-01's to judge, not this."""
    stamp = instant(value)
    return stamp is not None and stamp < since_ms
