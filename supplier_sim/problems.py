"""Problem details (RFC 9457): every 4xx and 5xx the simulator sends."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from aiohttp import web

from contracts import Violation

PROBLEM_BASE = "https://orderportal-harness.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An answer that is an error; raised anywhere in a handler, turned into problem+json once."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        errors: Iterable[Violation] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"pointer": e.pointer, "message": e.message} for e in self.errors]
        return body

    def response(self) -> web.Response:
        return web.Response(
            status=self.status, body=orjson.dumps(self.body()), content_type=PROBLEM_JSON, headers=self.headers
        )

    @classmethod
    def invalid(cls, errors: Iterable[Violation], detail: str = "the request is not valid") -> Problem:
        errors = list(errors)
        named = "; ".join(f"{e.pointer or '/'} {e.message}" for e in errors[:5])
        more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
        return cls(422, "validation-error", "Unprocessable Content", f"{detail}: {named}{more}", errors)

    @classmethod
    def invalid_field(cls, pointer: str, message: str) -> Problem:
        return cls.invalid([Violation(pointer, message)])

    @classmethod
    def malformed(cls, detail: str) -> Problem:
        return cls(400, "malformed-request", "Bad Request", detail)

    @classmethod
    def unauthorized(cls, detail: str, scheme: str = "Basic") -> Problem:
        return cls(
            401, "unauthorized", "Unauthorized", detail, headers={"WWW-Authenticate": f'{scheme} realm="supplier"'}
        )

    @classmethod
    def forbidden(cls, detail: str) -> Problem:
        return cls(403, "forbidden", "Forbidden", detail)

    @classmethod
    def not_found(cls, detail: str) -> Problem:
        return cls(404, "not-found", "Not Found", detail)

    @classmethod
    def conflict(cls, kind: str, detail: str) -> Problem:
        return cls(409, kind, "Conflict", detail)


def from_http_exception(exc: web.HTTPException) -> Problem:
    """aiohttp's own errors (no route, wrong method, body too large) as problems."""
    kinds = {
        404: ("not-found", "no such resource: check the path, for example /api/v1/customers/{customerNumber}/products"),
        405: ("method-not-allowed", "this method is not allowed here"),
        413: ("payload-too-large", "the request body is larger than 1 MiB"),
    }
    kind, detail = kinds.get(exc.status, ("http-error", exc.text or exc.reason))
    headers = {name: exc.headers[name] for name in ("Allow", "Retry-After") if name in exc.headers} or None
    return Problem(exc.status, kind, exc.reason, detail, headers=headers)


def internal_error() -> Problem:
    return Problem(500, "internal-error", "Internal Server Error", "the simulator failed; see its error log")
