"""The order list checks: its pages, its status and updatedSince filters, and its parameter limits."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.statuses import FINAL_STATUSES
from contracts.wire import format_timestamp
from scenarios.certify.checks.judging import before, instant, refusal_problem
from scenarios.certify.fixtures import Followed, read_listing
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import Context, NotObserved, check, expect

# One status, and two: REJECTED,ACCEPTED must list every order of the run that settled.
FILTERS = ("REJECTED", "ACCEPTED", "NEW,PROCESSED", "REJECTED,ACCEPTED")


def _orders(items: list[Any]) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)]


def _text(order: dict[str, Any], name: str) -> str | None:
    """A string field of a listed order; a field of another type is CONTRACT-01's to judge."""
    value = order.get(name)
    return value if isinstance(value, str) else None


def _settled_ids(settled: dict[str, Followed]) -> dict[str, Followed]:
    """The run's orders that are final: they no longer change, so where a listing puts them is fixed."""
    return {str(f.placed.order_id): f for f in settled.values() if f.final is not None}


def _unsettled(settled: dict[str, Followed], why: str) -> str:
    waited = max(one.waited_s for one in settled.values())
    seen = ", ".join(sorted({one.seen for one in settled.values()}))
    return f"waited {waited:.0f} s, and none of the run's orders reached a final status (seen: {seen}), {why}"


@check(
    "LIST-01",
    "The order pages hold every order exactly once, newest change last, and the totals agree",
    rules=["LIST-R1"],
)
async def order_pages(ctx: Context, settled: dict[str, Followed]) -> None:
    mine = _settled_ids(settled)
    if not mine:
        raise NotObserved(_unsettled(settled, "so none has a fixed place in the list"))
    first = await ctx.http.call("GET", "/orders", params={"page": "1", "size": "1"})
    total = first.fields.get("totalItems")
    expect(first.status == 200 and isinstance(total, int), f"the order list {first.said}", first)
    assert isinstance(total, int)
    size = max(1, min(1000, -(-total // 3)))  # at least three pages when there are three orders
    items, pages = await read_listing(ctx, "/orders", size)
    orders = _orders(items)
    # Only an order that did not change while the pages were read can be judged by where it is.
    fixed = [o for o in orders if _text(o, "status") in FINAL_STATUSES]
    repeated = [i for i, n in Counter((_text(o, "orderId"), _text(o, "updatedAt")) for o in fixed).items() if n > 1]
    expect(not repeated, f"orders on more than one page: {', '.join(str(i) for i, _ in repeated[:5])}", *pages[:3])
    listed = {_text(o, "orderId") for o in orders}
    missing = [order_id for order_id in mine if order_id not in listed]
    expect(not missing, f"the run's orders {', '.join(missing)} are on no page", *pages[:3])
    totals = {p.fields.get("totalItems") for p in pages}
    if len(totals) == 1 and len(fixed) == len(orders):  # nothing moved meanwhile: the count must be exact
        expect(
            len(orders) == total, f"the pages hold {len(orders)} orders but totalItems is {total}", pages[0], pages[-1]
        )
    stamps = [instant(o.get("updatedAt")) for o in fixed]
    known = [s for s in stamps if s is not None]
    expect(known == sorted(known), "the orders are not listed by last change, newest last", *pages[:3])


async def _filtered(ctx: Context, **params: str) -> tuple[list[dict[str, Any]], list[Exchange]]:
    items, pages = await read_listing(ctx, "/orders", 1000, **params)
    expect(pages[0].status == 200, f"GET /orders with {params} answered {pages[0].status}", pages[0])
    return _orders(items), pages


@check("LIST-02", "The status filter lists exactly the orders in the statuses asked for", rules=["LIST-R2"])
async def status_filter(ctx: Context, settled: dict[str, Followed]) -> None:
    mine = _settled_ids(settled)
    for wanted in FILTERS:
        statuses = set(wanted.split(","))
        orders, pages = await _filtered(ctx, status=wanted)
        others = [f"{o.get('orderId')} ({o.get('status')})" for o in orders if _text(o, "status") not in statuses]
        expect(not others, f"status={wanted} listed orders in other statuses: {', '.join(others[:5])}", *pages[:2])
        listed = {_text(o, "orderId") for o in orders}
        left_out = [i for i, f in mine.items() if f.final in statuses and i not in listed]
        expect(not left_out, f"status={wanted} left out the run's orders {', '.join(left_out)}", *pages[:2])
    if not mine:
        raise NotObserved(_unsettled(settled, "so no filter could be shown to find one"))


@check("LIST-03", "updatedSince lists exactly the orders updated at or after it", rules=["LIST-R3"])
async def updated_since(ctx: Context, settled: dict[str, Followed]) -> None:
    mine = {i: instant(f.last.get("updatedAt")) for i, f in _settled_ids(settled).items()}
    stamped = {i: s for i, s in mine.items() if s is not None}
    if not stamped:
        raise NotObserved(_unsettled(settled, "so none has a fixed updatedAt"))
    newest = max(stamped.values())
    # At the newest change, inclusive: the orders changed then are listed; one millisecond later, none of the run's.
    for since_ms, wanted in ((newest, {i for i, s in stamped.items() if s == newest}), (newest + 1, set())):
        since = format_timestamp(since_ms)
        orders, pages = await _filtered(ctx, updatedSince=since)
        older = [str(o.get("orderId")) for o in orders if before(o.get("updatedAt"), since_ms)]
        expect(not older, f"updatedSince={since} listed orders updated before it: {', '.join(older[:5])}", *pages[:2])
        listed = {_text(o, "orderId") for o in orders}
        left_out = sorted(wanted - listed)
        expect(not left_out, f"updatedSince={since} left out the run's orders {', '.join(left_out)}", *pages[:2])


@check(
    "LIST-04",
    "Bad order list parameters get 422 naming the parameter",
    rules=["LIST-R4", "PAGE-R1"],
)
async def list_parameters(ctx: Context, access: Exchange) -> None:
    wrong, evidence = [], []
    for name, value in (
        ("status", "SHIPPED"),
        ("size", "0"),
        ("size", "1001"),
        ("page", "0"),
        ("updatedSince", "yesterday"),
    ):
        answer = await ctx.http.call("GET", "/orders", params={name: value})
        why = refusal_problem(answer, f"{name}={value}", f"/query/{name}")
        if why is not None:
            wrong.append(why)
            evidence.append(answer)
    expect(not wrong, "; ".join(wrong), *evidence[:5])
