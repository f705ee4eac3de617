"""Answers broken on purpose, as the profile's ``misbehave`` switches say, so that certification can catch each.

Most switches act on the answer only: the database keeps the truth, so the lifecycle, the admin
API and a later run with the switches off see consistent state. Three change behaviour, as little
as they can: acceptBadQuantity creates the order, mismatchEveryContainer rejects it (in
supplier_sim.rules), and noRedelivery gives up on a refused webhook delivery (in supplier_sim.webhooks).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from contracts import Violation
from contracts.signing import PREFIX, SIGNATURE, TIMESTAMP
from contracts.statuses import ACCEPTED, PROCESSED, REJECTED
from contracts.wire import format_timestamp
from supplier_sim.auth import NOT_YOURS, Authenticator, wrong_credentials
from supplier_sim.catalog import Catalog, page_bytes
from supplier_sim.orders import OWN_KEY, OrderBook
from supplier_sim.problems import Problem
from supplier_sim.profile import Customer, Misbehaviour

CUSTOMER_ROUTES = frozenset(
    {"products", "orders.create", "orders.list", "order", "dispatch-notifications"}
    | {"webhook.put", "webhook.get", "webhook.delete"}
)
SHOWS_ORDERS = frozenset({"orders.create", "order", "orders.list"})
SLOW_ANSWER_S = 2.1  # just past the 2 s that certification's LATENCY-01 allows

# The named routes whose answers each switch breaks; strict mode does not check them. The webhook
# switches and mismatchEveryContainer break no answer: every answer tells the (wrong) truth.
BROKEN_ROUTES: dict[str, frozenset[str]] = {
    "wrong_totals": frozenset({"products"}),
    "product_missing_between_pages": frozenset({"products"}),
    "wrong_field_type": frozenset({"products"}),
    "illegal_status_move": frozenset({"order"}),
    "over_dispatch": frozenset({"dispatch-notifications"}),
    "duplicate_on_replay": frozenset({"orders.create"}),
    "server_error_on_bad_input": frozenset({"orders.create"}),
    "leak_other_customer": frozenset({"products", "orders.list"}),
    "refuse_good_credentials": CUSTOMER_ROUTES | {"auth"},
    "accept_wrong_password": CUSTOMER_ROUTES | {"auth"},
    "accept_missing_credentials": CUSTOMER_ROUTES,
    "ignore_page_size_limit": frozenset({"products"}),
    "ignore_updated_since": frozenset({"products"}),
    "case_sensitive_search": frozenset({"products"}),
    "created_not_new": frozenset({"orders.create"}),
    "replay_ignores_body": frozenset({"orders.create"}),
    "accept_bad_quantity": frozenset({"orders.create"}),
    "echo_other_quantities": frozenset({"orders.create"}),
    "no_replayed_header": frozenset({"orders.create"}),
    "wrong_location": frozenset({"orders.create"}),
    "server_error_on_unknown_order": frozenset({"order", "dispatch-notifications"}),
    "overlapping_order_pages": frozenset({"orders.list"}),
    "ignore_status_filter": frozenset({"orders.list"}),
    "ignore_order_updated_since": frozenset({"orders.list"}),
    "lenient_list_parameters": frozenset({"orders.list"}),
    "reject_without_reason": SHOWS_ORDERS,
    "mismatch_every_container": frozenset(),
    "history_out_of_order": SHOWS_ORDERS,
    "dispatch_before_accepted": frozenset({"dispatch-notifications"}),
    "webhook_shows_secret": frozenset({"webhook.get"}),
    "sign_body_only": frozenset(),
    "malformed_events": frozenset(),
    "no_redelivery": frozenset(),
    "delete_keeps_webhook": frozenset({"webhook.delete", "webhook.get"}),
    "echo_bad_values": frozenset({"orders.create"}),
    "slow_answers": frozenset({"order"}),
    "read_back_other_warehouse": frozenset({"order"}),
}


class Saboteur:
    """Breaks answers as the switches say; with every switch off it changes none (hot paths never ask it)."""

    def __init__(self, switches: Misbehaviour) -> None:
        self.switches = s = switches
        # Each checked on a hot path: one attribute, so the switches off cost nothing.
        self.breaks_product_pages = (
            s.wrong_totals
            or s.product_missing_between_pages
            or s.wrong_field_type
            or s.ignore_updated_since
            or s.case_sensitive_search
        )
        shows_orders = s.reject_without_reason or s.history_out_of_order
        self.breaks_created_orders = (
            shows_orders or s.created_not_new or s.echo_other_quantities or s.no_replayed_header or s.wrong_location
        )
        self.breaks_orders = shows_orders or s.illegal_status_move or s.slow_answers or s.read_back_other_warehouse
        self.breaks_order_lists = (
            shows_orders or s.overlapping_order_pages or s.ignore_status_filter or s.ignore_order_updated_since
        )
        self.breaks_dispatch_notifications = s.over_dispatch or s.dispatch_before_accepted
        self.refuses_good_credentials = s.refuse_good_credentials
        self.unchecked_routes = frozenset(
            route for name, routes in BROKEN_ROUTES.items() if getattr(s, name) for route in routes
        )
        self._moved_back: set[str] = set()
        self._slowed = False

    # --- who gets in

    def let_in(
        self, problem: Problem, headers: Mapping[str, str], number: str, auth: Authenticator, leaks: bool
    ) -> Customer:
        """Whom a broken check lets in despite ``problem`` (a 401 or 403); raises it when no switch does."""
        s = self.switches
        if problem.status == 403:
            if s.refuse_good_credentials:  # the credentials are good: refused as if they were not
                raise wrong_credentials(headers)
            if leaks and s.leak_other_customer and number in auth.customers:
                return auth.customers[number]
            raise problem
        customer = None
        if s.accept_missing_credentials and "X-Api-Key" not in headers and "Authorization" not in headers:
            customer = auth.customers.get(number)
        elif s.accept_wrong_password:
            customer = _wrong_password(headers, number, auth.customers)
        if customer is None:
            raise problem
        if customer.number != number:
            raise Problem.forbidden(NOT_YOURS)
        return customer

    def right_password(self, username: str, auth: Authenticator) -> str | None:
        """acceptWrongPassword: the password a token customer's login is let in with (None: refuse it)."""
        if not self.switches.accept_wrong_password:
            return None
        customer = next((c for c in auth.customers.values() if c.auth == "token" and c.username == username), None)
        return customer.password if customer else None

    # --- products

    def product_page(self, catalog: Catalog, page: int, size: int, since_ms: int | None, text: str | None) -> bytes:
        """A product page with wrong totals, a product missing between pages or a field of the wrong type,
        or one that ignores updatedSince or searches case-sensitively."""
        s = self.switches
        if s.ignore_updated_since:
            since_ms = None
        items = catalog.matching_case(since_ms, text) if s.case_sensitive_search else catalog.matching(since_ms, text)
        total = len(items)
        if s.product_missing_between_pages and total > size:
            items = items[:size] + items[size + 1 :]  # a new list: the catalog's own stays whole
        if s.wrong_totals:
            total += 1
        start = (page - 1) * size
        shown = items[start : start + size]
        if s.wrong_field_type:
            shown = [_container_amount_as_text(raw) for raw in shown]
        return page_bytes(shown, total, page, size)

    # --- orders

    def created(
        self, order: dict[str, Any], created: bool, headers: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """The answer to POST .../orders as the switches break it: its order and its headers."""
        s = self.switches
        if created and s.created_not_new:
            at = order["createdAt"]
            order = {**order, "status": PROCESSED, "statusHistory": [*order["statusHistory"], _entry(PROCESSED, at)]}
        if created and s.echo_other_quantities:
            order = {**order, "lines": [_doubled(line) for line in order["lines"]]}
        if not created and s.no_replayed_header:
            headers = {k: v for k, v in headers.items() if k != "Idempotent-Replayed"}
        if s.wrong_location:
            headers = {**headers, "Location": f"/api/v1/orders/{order['orderId']}"}  # the customer is left out
        return self.shown(order), headers

    async def order(self, order: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """GET .../orders/{orderId}: moved back once after ACCEPTED, shown broken, slow once, or normalised."""
        order_id = order["orderId"]
        if self.switches.illegal_status_move and order["status"] == ACCEPTED and order_id not in self._moved_back:
            # Once per order, so that a client waiting for a final status still sees ACCEPTED.
            self._moved_back.add(order_id)
            at = format_timestamp(now_ms)
            history = [*order["statusHistory"], _entry(PROCESSED, at)]
            order = {**order, "status": PROCESSED, "statusHistory": history, "updatedAt": at}
        if self.switches.slow_answers and not self._slowed:
            self._slowed = True  # before the wait: a second request meanwhile is already a later one
            await asyncio.sleep(SLOW_ANSWER_S)  # real time on purpose: certification measures real latency
        if self.switches.read_back_other_warehouse:
            # A server that normalises ids when it reads them back: the order no longer says what was sent.
            order = {**order, "warehouse": {**order["warehouse"], "id": order["warehouse"]["id"].lower()}}
        return self.shown(order)

    def shown(self, order: dict[str, Any]) -> dict[str, Any]:
        """An order in an answer: REJECTED entries without their reason, or the history newest first."""
        history = order["statusHistory"]
        if self.switches.reject_without_reason:
            history = [_entry(REJECTED, h["at"]) if h["status"] == REJECTED else h for h in history]
        if self.switches.history_out_of_order:
            history = history[::-1]
        return order if history is order["statusHistory"] else {**order, "statusHistory": history}

    async def order_page(
        self, orders: OrderBook, number: str, statuses: list[str], since_ms: int | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """An order page that ignores a filter, starts one order early after page 1, or shows orders broken."""
        s = self.switches
        if s.ignore_status_filter:
            statuses = []
        if s.ignore_order_updated_since:
            since_ms = None
        items, total = await orders.page(number, statuses, since_ms, page, size)
        if s.overlapping_order_pages and page > 1:
            # From offset (page - 1) x size - 1: the last order of the page before, then this page but its last.
            before, _ = await orders.page(number, statuses, since_ms, page - 1, size)
            items = before[-1:] + items[: size - 1] if len(before) == size else []
        return [self.shown(order) for order in items], total

    @staticmethod
    def duplicate_key() -> str:
        """A fresh key to store a replay under, so that it makes a second order."""
        return f"{OWN_KEY}{uuid.uuid4().hex}"

    def bad_input(self, problem: Problem, raw: bytes | None, headers: Mapping[str, str]) -> Problem:
        """An order body that fails validation gets a 500 instead of its 422, or a 422 that quotes each value."""
        if problem.status != 422:
            return problem
        if self.switches.server_error_on_bad_input:
            return Problem(500, "internal-error", "Internal Server Error", "the order could not be created")
        if self.switches.echo_bad_values:
            body = _decoded(raw)
            return Problem.invalid([_quoting(error, body, headers) for error in problem.errors])
        return problem

    def unknown_order(self, problem: Problem) -> Problem:
        """serverErrorOnUnknownOrder: a 500 instead of the 404 of an order the customer does not have."""
        if not self.switches.server_error_on_unknown_order:
            return problem
        return Problem(500, "internal-error", "Internal Server Error", "the order could not be read")

    # --- dispatch notifications

    def dispatch_notifications(
        self, items: list[dict[str, Any]], total: int, order: dict[str, Any] | None, page: int, now_ms: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Notifications that ship twice line one's quantity, or one made up for an order not yet ACCEPTED."""
        if order is None:
            return items, total
        if self.switches.dispatch_before_accepted and order["status"] == PROCESSED:
            items, total = ([_made_up_notification(order, now_ms)] if page == 1 else []), 1
        if not self.switches.over_dispatch:
            return items, total
        first = order["lines"][0]
        number, doubled = first["lineNumber"], {"quantity": 2 * first["quantity"]}
        items = [
            {**dn, "lines": [line | doubled if line["lineNumber"] == number else line for line in dn["lines"]]}
            for dn in items
        ]
        return items, total


def body_only_signature(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """signBodyOnly: both signature headers, the HMAC taken over the body without the timestamp and full stop."""
    return {TIMESTAMP: str(timestamp), SIGNATURE: PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def without_occurred_at(body: bytes) -> bytes:
    """malformedEvents: the event as sent, without its occurredAt."""
    event = orjson.loads(body)
    del event["occurredAt"]
    return orjson.dumps(event)


def _wrong_password(headers: Mapping[str, str], number: str, customers: Mapping[str, Customer]) -> Customer | None:
    """acceptWrongPassword: the basic customer a known username names, or the path's for an unknown API key."""
    if "X-Api-Key" in headers:
        return customers.get(number)
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None  # a garbage bearer token is still refused
    try:
        username = base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None
    return next((c for c in customers.values() if c.auth == "basic" and c.username == username), None)


def _entry(status: str, at: str) -> dict[str, Any]:
    return {"status": status, "at": at}


def _doubled(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "containers": 2 * line["containers"], "quantity": 2 * line["quantity"]}


def _made_up_notification(order: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """One notification of every line, dispatched now; DN0, a number the real ones (from DN1) never take."""
    return {
        "dispatchNotificationId": f"{order['orderId']}-DN0",
        "orderId": order["orderId"],
        "orderNumber": order["orderNumber"],
        "dispatchedAt": format_timestamp(now_ms),
        "lines": [
            {"lineNumber": line["lineNumber"], "productNumber": line["productNumber"], "quantity": line["quantity"]}
            for line in order["lines"]
        ],
    }


def _decoded(raw: bytes | None) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None


def _quoting(error: Violation, body: Any, headers: Mapping[str, str]) -> Violation:
    """The message a careless server writes: the field, the rule, and the value it was sent."""
    name = error.pointer.rsplit("/", 1)[-1] or "the body"
    if error.pointer.startswith("/headers/"):
        found, value = name in headers, headers.get(name)
    else:
        found, value = _at(body, error.pointer)
    return Violation(error.pointer, f"{name} {error.message}, not {value!r}") if found else error


def _at(document: Any, pointer: str) -> tuple[bool, Any]:
    """The value at a JSON pointer, and whether there is one."""
    for part in pointer.split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        if isinstance(document, dict) and key in document:
            document = document[key]
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            return False, None
    return True, document


def _container_amount_as_text(raw: bytes) -> bytes:
    product = orjson.loads(raw)
    product["containerAmount"] = str(product["containerAmount"])
    return orjson.dumps(product)
