"""The portal's client of Supplier API v1: each auth method, timeouts, paging, every answer checked."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from contracts import Violation, contracts
from contracts.redaction import REDACTED
from contracts.wire import basic_authorization, parse_timestamp

log = logging.getLogger("portal.supplier")

METHODS = ("basic", "token", "api-key")
MAX_PAGE_SIZE = 1000
MAX_TOKEN_LIFETIME_S = 30 * 86400
RETRYABLE = frozenset({429, 500, 502, 503, 504})  # the supplier is busy or failing, not refusing
JSON_TYPES = frozenset({"application/json", "application/problem+json"})
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a full page of 1,000 products is well under 1 MiB
monotonic = time.monotonic  # the client's own clock for token renewal; a test moves it


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a call is tried again: exponential backoff with full jitter, honouring Retry-After, within a deadline.

    Every call this client makes is safe to repeat: reads, logging in, the webhook's PUT and DELETE,
    and creating an order, which carries its Idempotency-Key.
    """

    attempts: int = 4
    base_s: float = 0.25
    cap_s: float = 8.0
    deadline_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_s < 0 or self.cap_s < self.base_s or self.deadline_s <= 0:
            raise ValueError(f"an impossible retry policy: {self}")

    def pause(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): at least what the supplier asked for."""
        backoff = rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))
        return max(backoff, retry_after_s or 0.0)


@dataclass(frozen=True, slots=True)
class Credentials:
    """How one customer number signs in at its supplier; the secrets stay out of the repr."""

    method: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown auth method {self.method!r}; use one of {', '.join(METHODS)}")


class SupplierError(Exception):
    """A supplier call that failed; the message names the endpoint and never a secret."""

    def __init__(self, endpoint: str, message: str, status: int | None = None) -> None:
        message = message.replace("\x00", "\\u0000")  # a supplier's NUL would fail to store on PostgreSQL
        super().__init__(f"{endpoint}: {message}")
        self.endpoint = endpoint
        self.detail = message
        self.status = status


class SupplierUnreachable(SupplierError):
    """No answer: connection refused, an unknown host, or the timeout ran out."""


class WrongCredentials(SupplierError):
    """The supplier does not accept the credentials (401)."""


class CustomerNumberRefused(SupplierError):
    """The customer number is unknown, or these credentials do not reach it (403)."""


class ContractBroken(SupplierError):
    """An answer that breaks Supplier API v1; lists every failing field."""

    def __init__(self, endpoint: str, violations: list[Violation], status: int | None = None) -> None:
        listed = "; ".join(f"{v.pointer or '/'}: {v.message}" for v in violations)
        super().__init__(endpoint, f"the answer breaks the contract: {listed}", status)
        self.violations = violations


class SupplierRejected(SupplierError):
    """Any other 4xx or 5xx; carries the problem details the supplier sent."""

    def __init__(self, endpoint: str, problem: dict[str, Any], status: int) -> None:
        super().__init__(endpoint, f"{status} {problem['title']}: {problem['detail']}", status)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_type: str
    body: bytes
    date: str | None = None  # the supplier's own clock, from the Date header
    retry_after: str | None = None
    decoded: Any = None  # the body, when it is JSON that parses; decoded once
    unreadable: bool = False  # JSON said, not JSON sent: cut short on the way, most likely

    @classmethod
    def of(cls, status: int, content_type: str, body: bytes, date: str | None, retry_after: str | None) -> _Answer:
        if content_type not in JSON_TYPES or (status == 204 and not body):
            return cls(status, content_type, body, date, retry_after)
        try:
            return cls(status, content_type, body, date, retry_after, orjson.loads(body))
        except orjson.JSONDecodeError:
            return cls(status, content_type, body, date, retry_after, unreadable=True)


class SupplierClient:
    """Speaks Supplier API v1 for one customer number of one supplier."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        customer_number: str,
        credentials: Credentials,
        *,
        timeout_s: float = 10.0,
        page_size: int = MAX_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        seed: int = 0,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, not {page_size}")
        self.session = session
        self.base_url = str(URL(base_url).with_user(None)).rstrip("/")
        self.customer_number = customer_number
        self.credentials = credentials
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        self._timeout_s = timeout_s
        self._rng = random.Random(f"{seed}:{customer_number}")  # the jitter replays with the seed
        self._sleep = asyncio.sleep  # a test records the pauses instead of waiting them out
        self._root = base_url.rstrip("/") + "/api/v1"
        self._token: str | None = None  # only ever in memory
        self._renew_at: float | None = None  # monotonic time to log in again before the token expires
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"SupplierClient({self.base_url!r}, customer_number={self.customer_number!r}, "
            f"method={self.credentials.method!r})"
        )

    async def check_access(self) -> None:
        """Prove the credentials reach the customer number: a fresh login for tokens, then one product."""
        if self.credentials.method == "token":
            self._token = None  # coupling proves the password itself, not a token from before
        await self._call("GET", "/products", "product-page", params={"page": "1", "size": "1"})

    async def products(self, updated_since: str | None = None) -> list[dict[str, Any]]:
        """Every product (changed since ``updated_since``, when given), over every page."""
        query = {"updatedSince": updated_since} if updated_since else {}
        return await self._pages("/products", "product-page", "productNumber", query)

    async def create_order(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """Place an order; resending with the same key answers with the same order."""
        headers = {"Idempotency-Key": idempotency_key}
        return await self._call("POST", "/orders", "order", status=201, json=body, headers=headers)

    async def order(self, order_id: str) -> dict[str, Any]:
        """One order with its status history."""
        return await self._call("GET", f"/orders/{quote(order_id, safe='')}", "order")

    async def orders(self, statuses: Sequence[str] = (), updated_since: str | None = None) -> list[dict[str, Any]]:
        """Every order in one of ``statuses`` (any, when empty) changed since ``updated_since``."""
        query = {"status": ",".join(statuses), "updatedSince": updated_since or ""}
        return await self._pages("/orders", "order-page", "orderId", {k: v for k, v in query.items() if v})

    async def dispatch_notifications(self, order_id: str) -> list[dict[str, Any]]:
        """Every dispatch notification of one order."""
        path = f"/orders/{quote(order_id, safe='')}/dispatch-notifications"
        return await self._pages(path, "dispatch-notification-page", "dispatchNotificationId", {})

    async def register_webhook(self, url: str, secret: str) -> dict[str, Any]:
        """Have the supplier send its events to ``url``, signed with ``secret``."""
        body = {"url": url, "secret": secret}
        return await self._call("PUT", "/webhook", "webhook", json=body)

    async def remove_webhook(self) -> None:
        """Stop the supplier's events; a webhook that is already gone is fine."""
        try:
            await self._call("DELETE", "/webhook", None, status=204)
        except SupplierRejected as exc:
            if exc.status != 404:
                raise

    async def _pages(self, path: str, schema: str, key: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """The items of pages 1..totalPages, checked to agree with the first page and never to repeat.

        Orders come sorted by their last change, so one that changes during the listing moves to a
        later page (and shifts another back): the listing is then taken again, a few times at most.
        """
        for _ in range(2 if key == "orderId" else 0):
            try:
                return await self._listing(path, schema, key, query)
            except ContractBroken:
                continue
        return await self._listing(path, schema, key, query)

    async def _listing(self, path: str, schema: str, key: str, query: dict[str, str]) -> list[dict[str, Any]]:
        first = await self._page(path, schema, query, 1)
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number in range(1, max(first["totalPages"], 1) + 1):  # page 1 is checked even when empty
            page = first if number == 1 else await self._page(path, schema, query, number)
            violations = _page_violations(page, first, number, self.page_size) + _repeats(page, key, seen)
            if violations:
                raise ContractBroken(f"GET {path}", violations)
            items += page["items"]
        return items

    async def _page(self, path: str, schema: str, query: dict[str, str], number: int) -> dict[str, Any]:
        return await self._call("GET", path, schema, params={**query, "page": str(number), "size": str(self.page_size)})

    async def _call(self, method: str, path: str, schema: str | None, status: int = 200, **kwargs: Any) -> Any:
        """One call on the customer's resources, logging in again once when a token is refused.

        The retry policy's deadline holds for the whole call: waiting for a login, the login, and
        the attempts, however many.
        """
        endpoint = f"{method} {path}"
        url = URL(f"{self._root}/customers/{quote(self.customer_number, safe='')}{path}", encoded=True)
        extra = kwargs.pop("headers", {})
        deadline = time.monotonic() + self.retry.deadline_s
        try:
            token = await self._bearer(deadline) if self.credentials.method == "token" else None
            headers = {**self._auth(token), **extra}
            answer = await self._send(endpoint, method, url, deadline, headers=headers, **kwargs)
            if answer.status == 401 and token is not None:
                token = await self._bearer(deadline, stale=token)
                headers = {**self._auth(token), **extra}
                answer = await self._send(endpoint, method, url, deadline, headers=headers, **kwargs)
            return self._read(endpoint, answer, schema, status)
        except SupplierError as exc:
            self._redact(exc, kwargs.get("json", {}).get("secret"))  # a webhook registration sends one
            raise

    async def _bearer(self, deadline: float, stale: str | None = None) -> str:
        """The current token; a new one when there is none yet or ``stale`` was refused."""
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                await self._login_lock.acquire()
        except TimeoutError:
            raise SupplierUnreachable("POST /auth", "another login took the whole deadline") from None
        try:
            return await self._login(deadline, stale)
        finally:
            self._login_lock.release()

    async def _login(self, deadline: float, stale: str | None) -> str:
        """Under the login lock: the token, logging in first when it is missing, refused or expiring."""
        expiring = self._renew_at is not None and monotonic() >= self._renew_at
        if self._token is None or self._token == stale or expiring:
            self._token = None  # a refused login leaves no token behind
            body = {"username": self.credentials.username, "password": self.credentials.password}
            login = URL(f"{self._root}/auth", encoded=True)
            answer = await self._send("POST /auth", "POST", login, deadline, json=body)
            issued = self._read("POST /auth", answer, "auth-token", 200)
            self._token, self._renew_at = issued["token"], _renewal(issued["expiresAt"], answer.date)
        return self._token

    def _auth(self, token: str | None) -> dict[str, str]:
        credentials = self.credentials
        if token is not None:
            return {"Authorization": f"Bearer {token}"}
        if credentials.method == "api-key":
            return {"X-Api-Key": credentials.api_key or ""}
        return {"Authorization": basic_authorization(credentials.username or "", credentials.password or "")}

    async def _send(self, endpoint: str, method: str, url: URL, deadline: float, **kwargs: Any) -> _Answer:
        """The answer, tried again after no answer, a 429 or 5xx, or JSON cut short, while the retry policy allows.

        The supplier's last answer is for _read to judge, even when a later attempt got none: it says
        more (a problem, a broken body kept as evidence). SupplierUnreachable when no attempt got one.
        """
        policy = self.retry
        attempt = 0
        answered: _Answer | None = None
        while True:
            attempt += 1
            timeout_s = min(self._timeout_s, deadline - time.monotonic())
            outcome = await self._try(endpoint, method, url, timeout_s, **kwargs)
            if isinstance(outcome, _Answer):
                answered = outcome
                if outcome.status not in RETRYABLE and not outcome.unreadable:
                    return outcome
            asked = _retry_after(outcome.retry_after) if isinstance(outcome, _Answer) else None
            pause = policy.pause(attempt, asked, self._rng)
            if attempt == policy.attempts or time.monotonic() + pause >= deadline:
                break
            why = outcome if isinstance(outcome, SupplierUnreachable) else f"{endpoint}: {_trouble(outcome)}"
            log.info("%s; trying again in %.2f s (attempt %d of %d)", why, pause, attempt + 1, policy.attempts)
            await self._sleep(pause)
        if answered is not None:
            return answered
        assert isinstance(outcome, SupplierUnreachable)
        raise SupplierUnreachable(endpoint, f"{outcome.detail}, after {attempt} attempt(s)")

    async def _try(
        self, endpoint: str, method: str, url: URL, timeout_s: float, **kwargs: Any
    ) -> _Answer | SupplierUnreachable:
        try:
            return await self._attempt(endpoint, method, url, timeout_s, **kwargs)
        except SupplierUnreachable as exc:
            return exc

    async def _attempt(self, endpoint: str, method: str, url: URL, timeout_s: float, **kwargs: Any) -> _Answer:
        """One exchange; no answer at all becomes SupplierUnreachable."""
        where = f"{url.host}:{url.port}"
        timeout = aiohttp.ClientTimeout(total=max(timeout_s, 0.001))
        try:
            async with self.session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs) as response:
                body = await _bounded(endpoint, response)
                headers = response.headers
                answer = _Answer.of(
                    response.status, response.content_type, body, headers.get("Date"), headers.get("Retry-After")
                )
        except TimeoutError as exc:
            raise SupplierUnreachable(endpoint, f"no answer from {where} within {timeout.total:.3g} s") from exc
        except aiohttp.ClientError as exc:
            raise SupplierUnreachable(endpoint, f"no answer from {where} ({type(exc).__name__})") from exc
        log.debug("%s for customer number %s: %d", endpoint, self.customer_number, answer.status)
        return answer

    def _read(self, endpoint: str, answer: _Answer, schema: str | None, status: int) -> Any:
        """The decoded body of a successful answer that meets ``schema``; the typed error otherwise."""
        if answer.status >= 400:
            raise self._failure(endpoint, answer)
        if answer.status != status:
            raise ContractBroken(endpoint, [Violation("", f"status {answer.status}, expected {status}")], answer.status)
        if schema is None:
            return None
        return _checked(endpoint, answer, "application/json", schema)

    def _failure(self, endpoint: str, answer: _Answer) -> SupplierError:
        problem = _checked(endpoint, answer, "application/problem+json", "problem")
        if problem["status"] != answer.status:
            violation = Violation("/status", f"is {problem['status']}, but the HTTP status is {answer.status}")
            return ContractBroken(endpoint, [violation], answer.status)
        if answer.status == 401:
            message = f"the supplier refuses these {self.credentials.method} credentials: {problem['detail']}"
            return WrongCredentials(endpoint, message, 401)
        if answer.status == 403:
            message = f"customer number {self.customer_number} is refused: {problem['detail']}"
            return CustomerNumberRefused(endpoint, message, 403)
        return SupplierRejected(endpoint, problem, answer.status)

    def _redact(self, exc: SupplierError, sent_secret: str | None) -> None:
        """Blank out of the error's message any secret that a supplier echoed back."""
        credentials = self.credentials
        message = str(exc)
        # The header values we send count too: an echoed Basic header is the password in base64.
        for secret in (*self._auth(None).values(), credentials.password, credentials.api_key, self._token, sent_secret):
            if secret:
                message = message.replace(secret, REDACTED)
        exc.args = (message,)


def _checked(endpoint: str, answer: _Answer, content_type: str, schema: str) -> Any:
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


def _page_violations(page: dict[str, Any], first: dict[str, Any], number: int, size: int) -> list[Violation]:
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


async def _bounded(endpoint: str, response: aiohttp.ClientResponse) -> bytes:
    """The answer's body, refused once it grows past MAX_ANSWER_BYTES: a supplier cannot exhaust our memory."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            violation = Violation("", f"the answer is larger than {MAX_ANSWER_BYTES:,} bytes")
            raise ContractBroken(endpoint, [violation], response.status)
        chunks.append(chunk)
    return b"".join(chunks)


def _trouble(answer: _Answer) -> str:
    return f"{answer.status}, a body that is not JSON" if answer.unreadable else str(answer.status)


def _retry_after(header: str | None) -> float | None:
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


def _renewal(expires_at: str, date: str | None) -> float | None:
    """When to log in again: at nine tenths of the lifetime the supplier's own clock gives the token.

    Without a Date header, or with one that disagrees with expiresAt (a simulator on a virtual clock),
    the lifetime is unknown and a 401 alone tells that the token expired.
    """
    try:
        lifetime_s = (parse_timestamp(expires_at) - parsedate_to_datetime(date or "").timestamp() * 1000) / 1000
    except (TypeError, ValueError):
        return None
    return monotonic() + lifetime_s * 0.9 if 0 < lifetime_s <= MAX_TOKEN_LIFETIME_S else None


def _repeats(page: dict[str, Any], key: str, seen: set[str]) -> list[Violation]:
    """Items whose ``key`` came before, on this page or an earlier one; the rest join ``seen``."""
    violations = []
    for index, item in enumerate(page["items"]):
        if item[key] in seen:
            violations.append(Violation(f"/items/{index}/{key}", f"{item[key]} came before"))
        seen.add(item[key])
    return violations
