"""Reading a supplier's answers: decoded once, checked against the contract, pages that agree, headers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from contracts import Violation, contracts
from contracts.wire import parse_timestamp
from portal.service_layer.supplier_errors import ContractBroken

JSON_TYPES = frozenset({"application/json", "application/problem+json"})
MAX_TOKEN_LIFETIME_S = 30 * 86400


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    date: str | None = None  # the supplier's own clock, from the Date header
    retry_after: str | None = None
    decoded: Any = None  # the body, when it is JSON that parses; decoded once
    unreadable: bool = False  # JSON said, not JSON sent: cut short on the way, most likely

    @classmethod
    def of(cls, status: int, content_type: str, body: bytes, date: str | None, retry_after: str | None) -> Answer:
        if content_type not in JSON_TYPES or (status == 204 and not body):
            return cls(status, content_type, body, date, retry_after)
        try:
            return cls(status, content_type, body, date, retry_after, orjson.loads(body))
        except orjson.JSONDecodeError:
            return cls(status, content_type, body, date, retry_after, unreadable=True)


def checked(endpoint: str, answer: Answer, content_type: str, schema: str) -> Any:
    """The body, when it has ``content_type``, is JSON and meets ``schema``; ContractBroken otherwise."""
    if answer.content_type != content_type:
        violation = Violation("/headers/Content-Type", f"is {answer.content_type!r}, expected {content_type}")
        raise ContractBroken(endpoint, [violation], answer.status)
    if answer.unreadable:
        raise ContractBroken(endpoint, [Violation("", "the body is not JSON")], answer.status)
    body = answer.decoded
    violations = contracts().errors(schema, body)
    if violations:
        raise ContractBroken(endpoint, violations, answer.status)
    return body


def page_violations(page: dict[str, Any], first: dict[str, Any], number: int, size: int) -> list[Violation]:
    """Where a page disagrees with the page asked for or with the first page's totals."""
    total = first["totalItems"]
    expected = {"currentPage": number, "pageSize": size, "totalItems": total, "totalPages": -(-total // size)}
    expected["items"] = min(size, total - (number - 1) * size)
    found = {**page, "items": len(page["items"])}
    return [
        Violation(f"/{name}", f"is {found[name]} on page {number}, expected {value}")
        for name, value in expected.items()
        if found[name] != value
    ]


def trouble(answer: Answer) -> str:
    return f"{answer.status}, a body that is not JSON" if answer.unreadable else str(answer.status)


def retry_after(header: str | None) -> float | None:
    """The seconds a Retry-After header asks for: a number of seconds or an HTTP date; None if unreadable."""
    value = (header or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # str.isdigit takes "²" too, which float() refuses
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def lifetime_s(expires_at: str, date: str | None) -> float | None:
    """A token's lifetime by the supplier's own clock, in seconds; None when it cannot be told.

    Without a Date header, or with one that disagrees with expiresAt (a simulator on a virtual clock),
    the lifetime is unknown and a 401 alone tells that the token expired.
    """
    try:
        lifetime_s = (parse_timestamp(expires_at) - parsedate_to_datetime(date or "").timestamp() * 1000) / 1000
    except (TypeError, ValueError):
        return None
    return lifetime_s if 0 < lifetime_s <= MAX_TOKEN_LIFETIME_S else None


def repeats(page: dict[str, Any], key: str, seen: set[str]) -> list[Violation]:
    """Items whose ``key`` came before, on this page or an earlier one; the rest join ``seen``."""
    keys = [item[key] for item in page["items"]]
    if seen.isdisjoint(keys) and len(set(keys)) == len(keys):  # the usual page, told by set operations
        seen.update(keys)
        return []
    violations = []
    for index, value in enumerate(keys):
        if value in seen:
            violations.append(Violation(f"/items/{index}/{key}", f"{value} came before"))
        seen.add(value)
    return violations
