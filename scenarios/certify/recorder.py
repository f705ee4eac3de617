"""Every request certification makes, recorded with its answer: the evidence of each verdict."""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from contracts import contracts
from contracts.redaction import redact_headers, redacted_body
from contracts.wire import basic_authorization


@dataclass(frozen=True, slots=True)
class Credentials:
    method: str  # basic | token | api-key
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)


@dataclass
class Exchange:
    """One request and its answer, with secrets blanked as it is recorded."""

    seq: int
    endpoint: str  # "GET /products": the method and the path below the customer
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None
    content_type: str
    response_headers: dict[str, str]
    body: Any
    duration_ms: float
    error: str | None = None
    violations: list[str] = field(default_factory=list)  # where the answer breaks its contract
    # The answer's bytes before anything is blanked: checks judge secrets on them. Never in a report.
    raw: bytes = field(default=b"", repr=False)

    @property
    def fields(self) -> dict[str, Any]:
        """The body when it is a JSON object, else empty: a check never crashes on a body of the wrong shape."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def said(self) -> str:
        """What came back, for a message: ``answered 404``, or why there was no answer at all."""
        return f"answered {self.status}" if self.status is not None else f"got no answer ({self.error})"

    def header(self, name: str) -> str | None:
        """A response header, by its case-insensitive name."""
        return next((v for k, v in self.response_headers.items() if k.lower() == name.lower()), None)

    def evidence(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": {"status": self.status, "headers": self.response_headers, "body": _shortened(self.body)},
            "durationMs": round(self.duration_ms, 2),
            "error": self.error,
            "violations": self.violations,
        }


class Recorder:
    """Talks to the vendor's server as one customer; logs in for tokens; keeps every exchange."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, customer: str, credentials: Credentials, timeout_s: float
    ) -> None:
        self.session = session
        self.base = base_url.rstrip("/") + "/api/v1"
        self.customer = customer
        self.credentials = credentials
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.exchanges: list[Exchange] = []
        self._token: str | None = None
        # Every secret the run knows, blanked from the evidence wherever it shows up, under any name.
        self.secrets: set[str] = {s for s in (credentials.password, credentials.api_key) if s}

    def path(self, customer: str | None = None) -> str:
        return f"{self.base}/customers/{quote(customer or self.customer, safe='')}"

    async def call(
        self,
        method: str,
        endpoint_path: str,
        *,
        customer: str | None = None,
        auth: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Exchange:
        """One call below the customer's path; ``auth`` replaces the credentials (for the auth checks)."""
        url = self.path(customer) + endpoint_path
        sent = {**(auth if auth is not None else await self.authorization()), **(headers or {})}
        exchange = await self.raw(method, url, f"{method} {_template(endpoint_path)}", sent, json, data, params)
        if exchange.status == 401 and auth is None and self.credentials.method == "token":
            self._token = None  # the token may have expired: one fresh login, then once more
            sent = {**await self.authorization(), **(headers or {})}
            exchange = await self.raw(method, url, f"{method} {_template(endpoint_path)}", sent, json, data, params)
        return exchange

    async def get_url(self, url: str) -> Exchange:
        """GET an absolute URL the server named (a Location), with the run's credentials."""
        return await self.raw("GET", url, "GET {Location}", await self.authorization(), None, None, None)

    async def authorization(self) -> dict[str, str]:
        creds = self.credentials
        if creds.method == "api-key":
            return {"X-Api-Key": creds.api_key or ""}
        if creds.method == "basic":
            return {"Authorization": basic_authorization(creds.username or "", creds.password or "")}
        if self._token is None:
            await self.login(creds.username or "", creds.password or "", keep=True)
        return {"Authorization": f"Bearer {self._token}"}

    async def login(self, username: str, password: str, keep: bool = False) -> Exchange:
        """POST /auth; with ``keep`` the token is kept (in memory only) before the record blanks it."""
        body = {"username": username, "password": password}
        exchange = await self.raw("POST", f"{self.base}/auth", "POST /auth", {}, body, None, None, keep=keep)
        if keep and self._token is None:
            self._token = ""  # refused: the calls that follow are refused too, and say so
        return exchange

    async def raw(
        self,
        method: str,
        url: str,
        endpoint: str,
        headers: dict[str, str],
        json: Any,
        data: bytes | None,
        params: dict[str, str] | None,
        keep: bool = False,
    ) -> Exchange:
        if json is not None:
            data, headers = orjson.dumps(json), {"Content-Type": "application/json", **headers}
        started = time.perf_counter()
        status, content_type, answer_headers, body, error, raw = None, "", {}, None, None, b""
        violations: list[str] = []
        try:
            async with self.session.request(
                method, url, data=data, headers=headers, params=params, timeout=self.timeout, allow_redirects=False
            ) as response:
                raw = await response.read()
                status, content_type, answer_headers = response.status, response.content_type, dict(response.headers)
                url = str(response.url)  # with the query: the evidence must say what was asked
                body = redacted_body(raw)
                violations = contract_violations(endpoint, status, content_type, raw)
                if keep and status == 200:
                    # A token is a token even in an answer that breaks its contract: CONTRACT-01 judges that.
                    token = body_token(raw)
                    if token:
                        self._token = token
                        self.secrets.add(token)
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        exchange = Exchange(
            len(self.exchanges) + 1,
            endpoint,
            method,
            url,
            redact_headers(headers),
            redacted_body(data) if data else None,
            status,
            content_type,
            redact_headers(answer_headers),
            body,
            (time.perf_counter() - started) * 1000,
            error,
            violations,
            raw,
        )
        self.exchanges.append(exchange)
        return exchange


SCHEMAS = {
    "POST /auth": "auth-token",
    "GET /products": "product-page",
    "POST /orders": "order",
    "GET /orders": "order-page",
    "GET /orders/{orderId}": "order",
    "GET /orders/{orderId}/dispatch-notifications": "dispatch-notification-page",
    "PUT /webhook": "webhook",
    "GET /webhook": "webhook",
}


API_PREFIX, CUSTOMER_PREFIX = "/api/v1", "/api/v1/customers/{customerNumber}"


@functools.cache
def declared_statuses() -> dict[str, frozenset[int]]:
    """The answers contracts/openapi.yaml declares for each operation, keyed as ``GET /orders/{orderId}``."""
    declared = {}
    for path, item in (contracts().openapi or {}).get("paths", {}).items():
        short = (
            path.removeprefix(CUSTOMER_PREFIX) if path.startswith(CUSTOMER_PREFIX) else path.removeprefix(API_PREFIX)
        )
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                statuses = frozenset(int(s) for s in operation["responses"] if s.isdigit())
                declared[f"{method.upper()} {short}"] = statuses
    return declared


def contract_violations(endpoint: str, status: int, content_type: str, raw: bytes) -> list[str]:
    """Where an answer breaks Supplier API v1, judged on the raw body before anything is blanked."""
    declared = declared_statuses().get(endpoint)
    found = []
    if declared is not None and status not in declared:
        listed = ", ".join(map(str, sorted(declared)))
        found.append(f"status {status} is not one the contract declares for {endpoint} ({listed})")
    if status >= 400:
        schema, expected = "problem", "application/problem+json"
    elif status == 204 or endpoint not in SCHEMAS:
        return found
    else:
        schema, expected = SCHEMAS[endpoint], "application/json"
    if content_type != expected:
        found.append(f"Content-Type is {content_type or 'missing'}, not {expected}")
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return [*found, "the body is not JSON"]
    found += [f"{v.pointer or '/'}: {v.message}" for v in contracts().errors(schema, decoded)]
    if schema == "problem" and isinstance(decoded, dict) and decoded.get("status") != status:
        found.append(f"/status: {decoded.get('status')} differs from the HTTP status {status}")
    return found


EVIDENCE_ITEMS = 3  # of a listing's items, the report shows this many: the message names what matters


def _shortened(body: Any) -> Any:
    """A page with its first items only, so that a report of a 1000-product listing stays readable."""
    if isinstance(body, dict) and isinstance(body.get("items"), list) and len(body["items"]) > EVIDENCE_ITEMS:
        left_out = len(body["items"]) - EVIDENCE_ITEMS
        return {
            **body,
            "items": [*body["items"][:EVIDENCE_ITEMS], f"... {left_out} more items, left out of the report"],
        }
    return body


def latency_table(exchanges: list[Exchange]) -> dict[str, dict[str, float]]:
    """Per endpoint: how many answers, and their p50, p95, p99 and slowest, in milliseconds."""
    by_endpoint: dict[str, list[float]] = {}
    for exchange in exchanges:
        if exchange.status is not None:
            by_endpoint.setdefault(exchange.endpoint, []).append(exchange.duration_ms)
    table = {}
    for endpoint, times in sorted(by_endpoint.items()):
        cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        table[endpoint] = {"n": len(times), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(times)}
    return table


def body_token(raw: bytes) -> str | None:
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    token = decoded.get("token") if isinstance(decoded, dict) else None
    return token if isinstance(token, str) else None


def _template(path: str) -> str:
    """``/orders/ORD1/dispatch-notifications`` as ``/orders/{orderId}/dispatch-notifications``."""
    parts = path.split("?")[0].split("/")
    if len(parts) > 2 and parts[1] == "orders":
        parts[2] = "{orderId}"
    return "/".join(parts)
