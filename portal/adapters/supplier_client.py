"""The portal's client of Supplier API v1: each auth method, timeouts, paging, every answer checked."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from contracts import Violation
from contracts.redaction import REDACTED
from contracts.wire import basic_authorization
from portal.adapters import translation
from portal.adapters.supplier_answers import (
    Answer,
    checked,
    lifetime_s,
    page_violations,
    repeats,
    retry_after,
    trouble,
)
from portal.domain.messages import CatalogProduct, DispatchNote, OrderRequest, SupplierOrder
from portal.domain.setup import Credentials
from portal.service_layer.retry import RetryPolicy
from portal.service_layer.supplier_errors import (
    API_ROOT,
    ContractBroken,
    CustomerNumberRefused,
    SupplierError,
    SupplierRejected,
    SupplierUnreachable,
    WrongCredentials,
)

log = logging.getLogger("portal.supplier")
T = TypeVar("T")
Translate = Callable[[list[dict[str, Any]]], Iterable[T]]  # a page's items in, domain values out

MAX_PAGE_SIZE = 1000
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a full page of 1,000 products is well under 1 MiB
monotonic = time.monotonic  # the client's own clock for token renewal; a test moves it


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
        self._root = base_url.rstrip("/") + API_ROOT
        self._token: str | None = None  # only ever in memory
        self._renew_at: float | None = None  # monotonic time to log in again before the token expires
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"SupplierClient({self.base_url!r}, customer_number={self.customer_number!r}, "
            f"method={str(self.credentials.method)!r})"
        )

    async def check_access(self) -> None:
        """Prove the credentials reach the customer number: a fresh login for tokens, then one product."""
        if self.credentials.method == "token":
            self._token = None  # coupling proves the password itself, not a token from before
        await self._call("GET", "/products", "product-page", params={"page": "1", "size": "1"})

    async def products(self, updated_since: str | None = None) -> list[CatalogProduct]:
        """Every product (changed since ``updated_since``, when given), over every page."""
        query = {"updatedSince": updated_since} if updated_since else {}
        return await self._pages("/products", "product-page", "productNumber", query, translation.catalog_products)

    async def create_order(self, request: OrderRequest, idempotency_key: str) -> SupplierOrder:
        """Place an order; resending with the same key answers with the same order."""
        headers = {"Idempotency-Key": idempotency_key}
        body = translation.order_body(request)
        return translation.supplier_order(
            await self._call("POST", "/orders", "order", status=201, json=body, headers=headers)
        )

    async def order(self, order_id: str) -> SupplierOrder:
        """One order with its status history."""
        return translation.supplier_order(await self._call("GET", f"/orders/{quote(order_id, safe='')}", "order"))

    async def orders(self, statuses: Sequence[str] = (), updated_since: str | None = None) -> list[SupplierOrder]:
        """Every order in one of ``statuses`` (any, when empty) changed since ``updated_since``."""
        query = {"status": ",".join(statuses), "updatedSince": updated_since or ""}
        wanted = {k: v for k, v in query.items() if v}
        return await self._pages("/orders", "order-page", "orderId", wanted, partial(map, translation.supplier_order))

    async def dispatch_notifications(self, order_id: str) -> list[DispatchNote]:
        """Every dispatch notification of one order."""
        path = f"/orders/{quote(order_id, safe='')}/dispatch-notifications"
        return await self._pages(
            path, "dispatch-notification-page", "dispatchNotificationId", {}, partial(map, translation.dispatch_note)
        )

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

    async def _pages(self, path: str, schema: str, key: str, query: dict[str, str], translate: Translate[T]) -> list[T]:
        """The items of pages 1..totalPages, checked to agree with the first page and never to repeat,
        translated a page at a time as each arrives (a large list's decoded pages are not all kept at once).

        Orders come sorted by their last change, so one that changes during the listing moves to a
        later page (and shifts another back): the listing is then taken again, a few times at most.
        """
        for _ in range(2 if key == "orderId" else 0):
            try:
                return await self._listing(path, schema, key, query, translate)
            except ContractBroken:
                continue
        return await self._listing(path, schema, key, query, translate)

    async def _listing(
        self, path: str, schema: str, key: str, query: dict[str, str], translate: Translate[T]
    ) -> list[T]:
        first = await self._page(path, schema, query, 1)
        items: list[T] = []
        seen: set[str] = set()
        for number in range(1, max(first["totalPages"], 1) + 1):  # page 1 is checked even when empty
            page = first if number == 1 else await self._page(path, schema, query, number)
            violations = page_violations(page, first, number, self.page_size) + repeats(page, key, seen)
            if violations:
                raise ContractBroken(f"GET {path}", violations)
            items += translate(page["items"])
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
            lifetime = lifetime_s(issued["expiresAt"], answer.date)
            self._token, self._renew_at = issued["token"], None if lifetime is None else monotonic() + lifetime * 0.9
        return self._token

    def _auth(self, token: str | None) -> dict[str, str]:
        credentials = self.credentials
        if token is not None:
            return {"Authorization": f"Bearer {token}"}
        if credentials.method == "api-key":
            return {"X-Api-Key": credentials.api_key or ""}
        return {"Authorization": basic_authorization(credentials.username or "", credentials.password or "")}

    async def _send(self, endpoint: str, method: str, url: URL, deadline: float, **kwargs: Any) -> Answer:
        """The answer, tried again after no answer, a 429 or 5xx, or JSON cut short, while the retry policy allows.

        The supplier's last answer is for _read to judge, even when a later attempt got none: it says
        more (a problem, a broken body kept as evidence). SupplierUnreachable when no attempt got one.
        """
        policy = self.retry
        attempt = 0
        answered: Answer | None = None
        while True:
            attempt += 1
            timeout_s = min(self._timeout_s, deadline - time.monotonic())
            outcome = await self._try(endpoint, method, url, timeout_s, **kwargs)
            if isinstance(outcome, Answer):
                answered = outcome
                if not policy.transient_status(outcome.status) and not outcome.unreadable:
                    return outcome
            asked = retry_after(outcome.retry_after) if isinstance(outcome, Answer) else None
            pause = policy.pause(attempt, asked, self._rng)
            if attempt == policy.attempts or time.monotonic() + pause >= deadline:
                break
            why = outcome if isinstance(outcome, SupplierUnreachable) else f"{endpoint}: {trouble(outcome)}"
            log.info("%s; trying again in %.2f s (attempt %d of %d)", why, pause, attempt + 1, policy.attempts)
            await self._sleep(pause)
        if answered is not None:
            return answered
        assert isinstance(outcome, SupplierUnreachable)
        raise SupplierUnreachable(endpoint, f"{outcome.detail}, after {attempt} attempt(s)")

    async def _try(
        self, endpoint: str, method: str, url: URL, timeout_s: float, **kwargs: Any
    ) -> Answer | SupplierUnreachable:
        try:
            return await self._attempt(endpoint, method, url, timeout_s, **kwargs)
        except SupplierUnreachable as exc:
            return exc

    async def _attempt(self, endpoint: str, method: str, url: URL, timeout_s: float, **kwargs: Any) -> Answer:
        """One exchange; no answer at all becomes SupplierUnreachable."""
        where = f"{url.host}:{url.port}"
        timeout = aiohttp.ClientTimeout(total=max(timeout_s, 0.001))
        try:
            async with self.session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs) as response:
                body = await _bounded(endpoint, response)
                headers = response.headers
                answer = Answer.of(
                    response.status, response.content_type, body, headers.get("Date"), headers.get("Retry-After")
                )
        except TimeoutError as exc:
            raise SupplierUnreachable(endpoint, f"no answer from {where} within {timeout.total:.3g} s") from exc
        except aiohttp.ClientError as exc:
            raise SupplierUnreachable(endpoint, f"no answer from {where} ({type(exc).__name__})") from exc
        log.debug("%s for customer number %s: %d", endpoint, self.customer_number, answer.status)
        return answer

    def _read(self, endpoint: str, answer: Answer, schema: str | None, status: int) -> Any:
        """The decoded body of a successful answer that meets ``schema``; the typed error otherwise."""
        if answer.status >= 400:
            raise self._failure(endpoint, answer)
        if answer.status != status:
            raise ContractBroken(endpoint, [Violation("", f"status {answer.status}, expected {status}")], answer.status)
        if schema is None:
            return None
        return checked(endpoint, answer, "application/json", schema)

    def _failure(self, endpoint: str, answer: Answer) -> SupplierError:
        problem = checked(endpoint, answer, "application/problem+json", "problem")
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
