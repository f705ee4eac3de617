"""The catalog checks: the product pages, their size limits, the updatedSince delta and the text search."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from contracts.wire import format_timestamp
from scenarios.certify.checks.judging import instant, refusal_problem
from scenarios.certify.fixtures import Product, read_listing
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import CheckSkipped, Context, check, expect


@check(
    "PAGING-01",
    "The pages cover every product exactly once, in product number order, and the totals agree",
    rules=["PRODUCT-R1", "PRODUCT-R2", "PRODUCT-R3"],
)
async def paging(ctx: Context, access: Exchange) -> None:
    total = access.fields.get("totalItems")
    expect(isinstance(total, int), "page 1 has no integer totalItems", access)
    assert isinstance(total, int)
    size = 1000 if total > 5000 else max(1, -(-total // 5))  # several pages, however small the catalog
    items, pages = await read_listing(ctx, "/products", size)
    first = pages[0].fields
    for number, page in enumerate(pages, start=1):
        expect(page.status == 200, f"page {number} answered {page.status}", page)
        for name in ("totalItems", "totalPages"):
            expect(
                page.fields.get(name) == first.get(name),
                f"page {number} says {name} {page.fields.get(name)}, page 1 said {first.get(name)}",
                pages[0],
                page,
            )
        expect(
            page.fields.get("currentPage") == number,
            f"page {number} says it is page {page.fields.get('currentPage')}",
            page,
        )
    numbers = [str(p.get("productNumber")) if isinstance(p, dict) else repr(p) for p in items]
    repeated = [n for n, c in Counter(numbers).items() if c > 1]
    expect(not repeated, f"products on more than one page: {', '.join(repeated[:5])}", *pages[:3])
    expect(
        len(numbers) == first.get("totalItems"),
        f"the pages hold {len(numbers)} products but totalItems is {first.get('totalItems')}",
        pages[0],
        pages[-1],
    )
    expect(
        first.get("totalPages") == -(-len(numbers) // size),
        f"totalPages is {first.get('totalPages')}, but {len(numbers)} products at {size} a page "
        f"make {-(-len(numbers) // size)}",
        pages[0],
    )
    # The order is the server's collation: plain or case-folded, but the same on every page.
    in_order = numbers == sorted(numbers) or [n.casefold() for n in numbers] == sorted(n.casefold() for n in numbers)
    expect(in_order, "the products are not in productNumber order", *pages[:2])


@check(
    "PAGING-02",
    "Page size limits hold: 1000 is served, 0 and 1001 and page 0 are refused naming the parameter",
    rules=["PAGE-R1"],
)
async def paging_limits(ctx: Context, access: Exchange) -> None:
    biggest = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1000"})
    expect(biggest.status == 200, f"size=1000 answered {biggest.status}", biggest)
    items = biggest.fields.get("items")
    expect(isinstance(items, list) and len(items) <= 1000, "size=1000 returned no list of at most 1000 items", biggest)
    for name, value in (("size", "1001"), ("size", "0"), ("page", "0")):
        answer = await ctx.http.call("GET", "/products", params={name: value})
        wrong = refusal_problem(answer, f"{name}={value}", f"/query/{name}")
        expect(wrong is None, str(wrong), answer)


@check("DELTA-01", "updatedSince returns exactly the products updated at or after it", rules=["PRODUCT-R4"])
async def delta(ctx: Context, products: list[Product]) -> None:
    stamped = [(p, s) for p in products if (s := instant(p.updated_at)) is not None]
    if not stamped:
        raise CheckSkipped("no product has an updatedAt to split the catalog by")
    stamps = sorted({s for _, s in stamped})
    since_ms = stamps[len(stamps) // 2]
    since = format_timestamp(since_ms)
    items, pages = await read_listing(ctx, "/products", 1000, updatedSince=since)
    expect(pages[0].status == 200, f"updatedSince={since} answered {pages[0].status}", pages[0])
    returned = {str(i.get("productNumber")): i for i in items if isinstance(i, dict)}
    older = [n for n, i in returned.items() if (instant(i.get("updatedAt")) or since_ms) < since_ms]
    expect(not older, f"updatedSince={since} returned products updated before it: {', '.join(older[:5])}", *pages[:2])
    # Judged against the products listed without the filter, one-sidedly: a product the listing
    # itself leaves out is PAGING-01's to judge, not this check's.
    missing = [p.number for p, s in stamped if s >= since_ms and p.number not in returned]
    expect(not missing, f"updatedSince={since} left out products updated since: {', '.join(missing[:5])}", *pages[:2])
    after = format_timestamp(stamps[-1] + 1)
    later, later_pages = await read_listing(ctx, "/products", 1000, updatedSince=after)
    expect(
        not later,
        f"updatedSince={after}, after the newest change, still returned {len(later)} products",
        later_pages[0],
    )
    if len(stamps) == 1:
        ctx.notes.append("DELTA-01: every product has the same updatedAt, so the split could not be tested")


@check(
    "SEARCH-01", "q finds products by text in their number, name or barcode, whatever its case", rules=["PRODUCT-R5"]
)
async def search(ctx: Context, products: list[Product]) -> None:
    chosen = next(((p, m.group()) for p in products if (m := re.search(r"[A-Za-z]{3,}", p.name))), None)
    if chosen is None:
        raise CheckSkipped("no product name has three letters in a row to search for")
    product, word = chosen
    text = word[1:].swapcase() if len(word) > 3 else word.swapcase()  # another case than the name's
    items, pages = await read_listing(ctx, "/products", 1000, q=text)
    expect(pages[0].status == 200, f"q={text} answered {pages[0].status}", pages[0])
    found = {str(i.get("productNumber")): i for i in items if isinstance(i, dict)}
    expect(
        product.number in found, f"q={text} did not find product {product.number} named {product.name!r}", *pages[:2]
    )
    needle = text.casefold()
    unrelated = [n for n, i in found.items() if not _mentions(i, needle)]
    expect(not unrelated, f"q={text} returned products without it: {', '.join(unrelated[:5])}", *pages[:2])


def _mentions(item: dict[str, Any], needle: str) -> bool:
    barcodes = item.get("barcodes")
    texts = [item.get("productNumber"), item.get("name"), *(barcodes if isinstance(barcodes, list) else [])]
    return any(isinstance(t, str) and needle in t.casefold() for t in texts)
