"""What every route shares: the one problem middleware, JSON answers, validated bodies and path parameters."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, TypeVar

import orjson
from aiohttp import web
from sqlalchemy.exc import IntegrityError, OperationalError

from contracts.bodies import NotJson, decode_json
from contracts.serving import UNSAFE_METHODS, cross_site
from portal.domain.errors import DomainError, Duplicate, InvalidInput, NotFound
from portal.entrypoints.requests import requests

log = logging.getLogger("portal.api")
PROBLEM_BASE = "https://orderportal-harness.dev/problems/"
JSON = "application/json"
MAX_ID = 2**31 - 1  # ids are 32-bit integers on both databases
MAX_BODY = 1024 * 1024  # the largest request body read; a larger one is refused with 413
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
E = TypeVar("E", bound=StrEnum)


def problem(status: int, kind: str, detail: str, errors: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": kind.replace("-", " "),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/problem+json")


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals and bad input as problem+json; anything else is logged and a 500 that says so."""
    try:
        return await handler(request)
    except Invalid as exc:
        listed = [{"pointer": e.pointer, "message": e.message} for e in exc.errors]
        return problem(exc.status, exc.kind, str(exc), listed)
    except DomainError as exc:
        named = [{"pointer": exc.field, "message": str(exc)}] if exc.field else None
        return problem(exc.status, exc.kind, str(exc), named)
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "payload-too-large", f"the request body is larger than {MAX_BODY // 1024 // 1024} MiB")
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        refused = problem(405, "method-not-allowed", f"{request.method} is not allowed here; allowed: {allowed}")
        refused.headers["Allow"] = exc.headers["Allow"]  # RFC 9110 requires it on a 405
        return refused
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem(exc.status, "http-error", exc.reason)
    except (Duplicate, IntegrityError):
        return problem(409, "conflict", "a concurrent change got there first; reload and try again")
    except OperationalError as exc:
        log.warning("%s %s: the database is busy: %s", request.method, request.path, exc.orig)
        return problem(503, "busy", "the database is busy; try again")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "internal-error", "the portal failed; see its log")


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A page on another site cannot change the portal through a visitor's browser: such a request is a 403.

    The portal has no login of its own, so a form post, a bodiless fetch or a beacon from any site the
    user visits would otherwise book, send or sync. A browser says where a request comes from
    (Sec-Fetch-Site, or else Origin); a client that is no browser (the harness, curl, a supplier's
    webhook) sends neither and is served as before.
    """
    if request.method in UNSAFE_METHODS and cross_site(request):
        return problem(403, "cross-site-request", "a page on another site cannot change the portal; call its API")
    return await handler(request)


def ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


async def body_of(request: web.Request, schema: str) -> dict[str, Any]:
    """The request's JSON body, valid against ``schema``; 415, 400 or 422 naming each bad field."""
    raw = await json_body(request)
    try:
        body = decode_json(raw or b"{}")
    except NotJson as exc:
        raise Malformed(str(exc)) from None
    errors = requests.errors(schema, body)
    if errors:
        raise Invalid(errors)
    return _integral(body)  # type: ignore[no-any-return]


async def json_body(request: web.Request) -> bytes:
    """The raw body, sent as JSON: any other media type is refused with 415.

    A browser on another site may post text/plain, a form or multipart without asking first (no CORS
    preflight); it may post application/json only if the portal allows it. So JSON is the only type taken.
    """
    if request.body_exists and request.content_type != JSON:  # body_exists: a middleware may have read it
        raise UnsupportedMediaType(f"send the body as {JSON}")
    return await request.read()


def _integral(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer: keep it as one, so no float reaches a quantity."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return [_integral(v) for v in value] if isinstance(value, list) else value


class Invalid(DomainError):
    status = 422
    kind = "validation-error"

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("the request is not valid: " + "; ".join(f"{e.pointer or '/'} {e.message}" for e in errors))
        self.errors = errors


class Malformed(DomainError):
    status = 400
    kind = "malformed-request"


class UnsupportedMediaType(DomainError):
    status = 415
    kind = "unsupported-media-type"


def ident(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not (text.isascii() and text.isdigit() and len(text) < 10 and int(text) > 0):
        raise NotFound(f"no such {name}: ids are positive numbers")
    return int(text)


def query_int(request: web.Request, name: str, default: int, high: int) -> int:
    """An optional number from 1 to ``high``; given empty, it is refused like any other non-number."""
    text = request.query.get(name, str(default))
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
    if not 1 <= value <= high:
        raise InvalidInput(f"{name} must be from 1 to {high}", field=f"/query/{name}")
    return value


def query_id(request: web.Request, name: str) -> int | None:
    """An optional id filter; anything but a positive id is a 422 naming the parameter, not its value."""
    text = request.query.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID):
        raise InvalidInput(f"{name} must be an id from 1 to {MAX_ID}", field=f"/query/{name}")
    return int(text)


def query_choice(request: web.Request, name: str, choices: type[E]) -> E | None:
    """An optional filter that is one of ``choices``; anything else is a 422 that lists them."""
    text = request.query.get(name)
    if text is None:
        return None
    if text not in {c.value for c in choices}:
        raise InvalidInput(f"{name} must be one of {', '.join(c.value for c in choices)}", field=f"/query/{name}")
    return choices(text)
