"""What every handler needs: JSON in and out, paging and timestamp parameters, all as problems."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping

from contracts import Violation, contracts
from contracts.bodies import NotJson, decode_json
from contracts.wire import parse_timestamp
from supplier_sim.problems import Problem
from supplier_sim.typedefs import BODY, BODY_REFUSED

JSON = "application/json"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10**9


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON, headers=headers)


async def read_json(request: web.Request, schema: str, extra: list[Violation] | None = None) -> Any:
    """The body, decoded and valid against ``schema``; 415, 413, 400 or 422 otherwise."""
    if request.content_type != JSON and not request.content_type.endswith("+json"):
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", f"send the body as {JSON}")
    raw = await request.read()
    request[BODY], request[BODY_REFUSED] = raw, True
    try:
        body = decode_json(raw)
    except NotJson as exc:
        raise Problem.malformed(str(exc)) from None
    errors = [*(extra or []), *contracts().errors(schema, body)]
    if b"\\u0000" in raw:  # JSON can carry NUL only escaped; no field may hold one
        named = {e.pointer for e in errors}
        errors += [Violation(p, "must not contain a NUL character") for p in _nul_pointers(body, "") if p not in named]
    if errors:
        raise Problem.invalid(errors)
    request[BODY_REFUSED] = False
    return _integral(body)


def _nul_pointers(value: Any, at: str) -> list[str]:
    if isinstance(value, str):
        return [at] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _nul_pointers(v, f"{at}/{k}") + ([f"{at}/{k}"] if "\x00" in k else [])
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_pointers(v, f"{at}/{i}")]
    return []


def _integral(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer; store it as one, so that no 2.0 reaches the engine."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def integer(query: MultiMapping[str], name: str, default: int, low: int, high: int, errors: list[Violation]) -> int:
    text = query.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not low <= int(text) <= high:
        errors.append(Violation(f"/query/{name}", f"must be an integer from {low} to {high}"))
        return default
    return int(text)


TIMESTAMP_RULE = "must be an RFC 3339 timestamp such as 2026-01-05T08:00:00Z (in a URL, a + is written %2B)"


def timestamp(query: MultiMapping[str], name: str, errors: list[Violation]) -> int | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        errors.append(Violation(f"/query/{name}", TIMESTAMP_RULE))
        return None


def paging(query: MultiMapping[str], errors: list[Violation]) -> tuple[int, int]:
    page = integer(query, "page", 1, 1, MAX_PAGE, errors)
    size = integer(query, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, errors)
    return page, size


def clamped_paging(query: MultiMapping[str], errors: list[Violation]) -> tuple[int, int, list[Violation]]:
    """Paging as a lenient server reads it, for the misbehave switches: page 0 as 1, a size clamped to
    1..1000, only text that is no number refused; the page, the size and the errors left."""
    page, size = _clamped(query, "page", 1, MAX_PAGE), _clamped(query, "size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    clamped = {"/query/page": page is not None, "/query/size": size is not None}
    left = [e for e in errors if not clamped.get(e.pointer, False)]
    return page or 1, size or DEFAULT_PAGE_SIZE, left


def _clamped(query: MultiMapping[str], name: str, default: int, high: int) -> int | None:
    text = query.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()):
        return None
    return high if len(text) > 19 else min(max(int(text), 1), high)  # a long number would be slow to convert


def page_body(items: list[Any], total: int, page: int, size: int) -> dict[str, Any]:
    return {"currentPage": page, "pageSize": size, "totalPages": -(-total // size), "totalItems": total, "items": items}
