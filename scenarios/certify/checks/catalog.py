"""The catalog checks: the product pages, their size limits, and the updatedSince delta."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.wire import format_timestamp, parse_timestamp
from scenarios.certify.checks.shared import is_problem
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import CheckSkipped, Context, check, expect


async def all_pages(ctx: Context, size: int, **params: str) -> tuple[list[dict[str, Any]], list[Exchange]]:
    """Every page of the product list, checked to agree with the first."""
    items: list[dict[str, Any]] = []
    pages: list[Exchange] = []
    page = 1
    while True:
        answer = await ctx.http.call("GET", "/products", params={"page": str(page), "size": str(size), **params})
        expect(answer.status == 200 and isinstance(answer.body, dict), f"page {page} answered {answer.status}", answer)
        body = answer.body
        pages.append(answer)
        first = pages[0].body
        for name in ("totalItems", "totalPages"):
            expect(
                body.get(name) == first.get(name),
                f"page {page} says {name} {body.get(name)}, page 1 said {first.get(name)}",
                pages[0],
                answer,
            )
        expect(body.get("currentPage") == page, f"page {page} says it is page {body.get('currentPage')}", answer)
        items += body.get("items", [])
        if page >= (first.get("totalPages") or 0) or page >= 10_000:
            return items, pages
        page += 1


@check("PAGING-01", "The pages cover every product exactly once, in product number order, and the totals agree")
async def paging(ctx: Context) -> None:
    first = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1"})
    total = first.body.get("totalItems", 0) if isinstance(first.body, dict) else 0
    size = 1000 if total > 5000 else max(1, -(-total // 5))
    items, pages = await all_pages(ctx, size)
    numbers = [str(p.get("productNumber")) for p in items]
    repeated = [n for n, c in Counter(numbers).items() if c > 1]
    expect(not repeated, f"products on more than one page: {', '.join(map(str, repeated[:5]))}", *pages[:3])
    expect(
        len(numbers) == total, f"the pages hold {len(numbers)} products but totalItems is {total}", pages[0], pages[-1]
    )
    expect(
        pages[0].body.get("totalPages") == -(-total // size),
        "totalPages does not match totalItems / pageSize",
        pages[0],
    )
    # The order is the server's collation: plain or case-folded, but the same on every page.
    in_order = numbers == sorted(numbers) or [n.casefold() for n in numbers] == sorted(n.casefold() for n in numbers)
    expect(in_order, "the products are not in productNumber order", *pages[:2])
    ctx.found["products"] = items


@check("PAGING-02", "Page size limits hold: 1000 is served, 0 and 1001 are refused naming the parameter")
async def paging_limits(ctx: Context) -> None:
    biggest = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1000"})
    expect(biggest.status == 200, f"size=1000 answered {biggest.status}", biggest)
    expect(len(biggest.body.get("items", [])) <= 1000, "size=1000 returned more than 1000 items", biggest)
    for params in ({"size": "1001"}, {"size": "0"}, {"page": "0"}):
        answer = await ctx.http.call("GET", "/products", params=params)
        name = next(iter(params))
        expect(
            answer.status is not None and 400 <= answer.status < 500,
            f"{name}={params[name]} answered {answer.status}, not a 4xx",
            answer,
        )
        named = is_problem(answer) and name in str(answer.body.get("errors", answer.body.get("detail", "")))
        expect(named, f"the answer to {name}={params[name]} does not name {name}", answer)


@check("DELTA-01", "updatedSince returns exactly the products updated at or after it")
async def delta(ctx: Context) -> None:
    products = ctx.found.get("products")
    if not products:
        raise CheckSkipped("the product list could not be read")
    stamps = sorted({parse_timestamp(p["updatedAt"]) for p in products})
    since_ms = stamps[len(stamps) // 2]
    since = format_timestamp(since_ms)
    expected = {p["productNumber"] for p in products if parse_timestamp(p["updatedAt"]) >= since_ms}
    items, pages = await all_pages(ctx, 1000, updatedSince=since)
    got = {p["productNumber"] for p in items}
    expect(
        all(parse_timestamp(p["updatedAt"]) >= since_ms for p in items),
        f"updatedSince={since} returned older products",
        *pages[:2],
    )
    expect(
        got == expected,
        f"updatedSince={since} returned {len(got)} products, {len(expected)} were updated since",
        *pages[:2],
    )
    after = format_timestamp(stamps[-1] + 1)
    later, _ = await all_pages(ctx, 1000, updatedSince=after)
    expect(not later, f"updatedSince={after}, after the newest change, still returned {len(later)} products")
    if len(stamps) == 1:
        ctx.notes.append("DELTA-01: every product has the same updatedAt, so the split could not be tested")
