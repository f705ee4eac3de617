"""Secrets never leave: one place that blanks them out of headers and JSON bodies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from contracts.bodies import NotJson, TooDeep, decode_json

REDACTED = "***"
SECRET_FIELDS = frozenset({"password", "token", "secret", "apikey", "api_key", "accesstoken", "access_token"})
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-admin-token", "cookie", "set-cookie", "proxy-authorization"}
)


def redact_json(value: Any) -> Any:
    """A copy of a decoded JSON value with every secret-named field blanked, at any depth."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if k.lower() in SECRET_FIELDS and v is not None else redact_json(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redacted_body(raw: bytes | None) -> Any:
    """A JSON body decoded with its secrets blanked; any other body by its size only (it may hold one). Never raises.

    It decodes as the apps decode a request, so a body they refused (too deep, a lone surrogate) is
    shown by its size too, and every value it returns can be encoded again.
    """
    if not raw:
        return None
    try:
        return redact_json(decode_json(raw))
    except TooDeep:
        return f"<{len(raw)} bytes, JSON nested too deep>"
    except NotJson:
        return f"<{len(raw)} bytes, not JSON>"


def size_only(raw: bytes | None) -> str | None:
    """A body that is kept but never shown, such as one that broke its contract and may hold a secret anywhere."""
    return f"<{len(raw)} bytes, refused, not shown>" if raw else None


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with credentials blanked; the scheme of an Authorization header is kept."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    clean: dict[str, str] = {}
    for name, value in items:
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if name.lower() == "authorization" and " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        clean[encodable(str(name))] = encodable(value)
    return clean


def redact_query(query: str) -> str:
    """A query string with the value of every secret-named parameter blanked; any other is left as sent."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_FIELDS for name, _ in pairs):
        return query
    return urlencode([(k, REDACTED if k.lower() in SECRET_FIELDS else v) for k, v in pairs], safe="*")


def encodable(text: str) -> str:
    """``text`` that encodes as UTF-8: a header byte aiohttp kept as a lone surrogate becomes U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def blank_values(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every occurrence of a known secret blanked, wherever it sits and whatever its key is named.

    A secret is blanked where it stands as a word of its own (between characters that are not letters
    or digits), so that a short password such as ``order`` does not garble ``orderable`` in a message.
    """
    known = sorted((s for s in secrets if s), key=len, reverse=True)
    if not known:
        return value
    pattern = re.compile("|".join(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])" for s in known))

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(REDACTED, item)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)
