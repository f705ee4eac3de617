"""The catalog checks: the product pages, their size limits, the updatedSince delta and the text search."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from contracts.wire import format_timestamp
from scenarios.certify.checks.judging import before, instant, refusal_problem
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
    expect(isinstance(total, int), "page 1 has no integer totalItems", access, rules=["PRODUCT-R3"])
    assert isinstance(total, int)
    size = 1000 if total > 5000 else max(1, -(-total // 5))  # several pages, however small the catalog
    items, pages = await read_listing(ctx, "/products", size)
    first = pages[0].fields
    for number, page in enumerate(pages, start=1):
        expect(page.status == 200, f"page {number} {page.said}", page, rules=["PRODUCT-R1"])
        for name in ("totalItems", "totalPages"):
            expect(
                page.fields.get(name) == first.get(name),
                f"page {number} says {name} {page.fields.get(name)}, page 1 said {first.get(name)}",
                pages[0],
                page,
                rules=["PRODUCT-R3"],
            )
        expect(
            page.fields.get("currentPage") == number,
            f"page {number} says it is page {page.fields.get('currentPage')}",
            page,
            rules=["PRODUCT-R3"],
        )
    numbers = [str(p.get("productNumber")) if isinstance(p, dict) else repr(p) for p in items]
    repeated = [n for n, c in Counter(numbers).items() if c > 1]
    expect(not repeated, f"products on more than one page: {', '.join(repeated[:5])}", *pages[:3], rules=["PRODUCT-R1"])
    expect(
        len(numbers) == first.get("totalItems"),
        f"the pages hold {len(numbers)} products but totalItems is {first.get('totalItems')}",
        pages[0],
        pages[-1],
        rules=["PRODUCT-R1", "PRODUCT-R3"],
    )
    expect(
        first.get("totalPages") == -(-len(numbers) // size),
        f"totalPages is {first.get('totalPages')}, but {len(numbers)} products at {size} a page "
        f"make {-(-len(numbers) // size)}",
        pages[0],
        rules=["PRODUCT-R3"],
    )
    in_order = any(numbers == sorted(numbers, key=collation) for collation in COLLATIONS)
    expect(in_order, "the products are not in productNumber order", *pages[:2], rules=["PRODUCT-R2"])


# productNumber order, in the collations servers use: code points, case-folded, numeric when every
# number is digits, and a database's natural-language collation, which ignores punctuation first.
COLLATIONS: tuple[Callable[[str], Any], ...] = (
    lambda n: n,
    str.casefold,
    lambda n: (int(n), n) if n.isascii() and n.isdigit() else (-1, n),
    lambda n: ("".join(c for c in n.casefold() if c.isalnum()), n.casefold(), n),
)


@check(
    "PAGING-02",
    "Page size limits hold: 1000 is served, 0 and 1001 and page 0 are refused naming the parameter",
    rules=["PAGE-R1"],
)
async def paging_limits(ctx: Context, access: Exchange) -> None:
    biggest = await ctx.http.call("GET", "/products", params={"page": "1", "size": "1000"})
    expect(biggest.status == 200, f"size=1000 {biggest.said}", biggest)
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
    older = [n for n, i in returned.items() if before(i.get("updatedAt"), since_ms)]
    expect(not older, f"updatedSince={since} returned products updated before it: {', '.join(older[:5])}", *pages[:2])
    # Judged against the products listed without the filter, one-sidedly: a product the listing
    # itself leaves out is PAGING-01's to judge, not this check's.
    missing = [p.number for p, s in stamped if s >= since_ms and p.number not in returned]
    expect(not missing, f"updatedSince={since} left out products updated since: {', '.join(missing[:5])}", *pages[:2])
    # After the newest change the listing showed: anything returned must be newer still (a live catalog changes).
    after_ms = stamps[-1] + 1
    after = format_timestamp(after_ms)
    later, later_pages = await read_listing(ctx, "/products", 1000, updatedSince=after)
    stale = [str(i.get("productNumber")) for i in later if isinstance(i, dict) and before(i.get("updatedAt"), after_ms)]
    expect(not stale, f"updatedSince={after} returned {len(stale)} products updated before it", later_pages[0])
    if len(stamps) == 1:
        ctx.notes.append("DELTA-01: every product has the same updatedAt, so the split could not be tested")


def _needles(products: list[Product]) -> list[tuple[Product, str, str]]:
    """(product, what is searched, the text in another case): part of a name, of a number, of a barcode."""
    found = []
    named = next(((p, m.group()) for p in products if (m := re.search(r"[A-Za-z]{3,}", p.name))), None)
    if named:
        found.append((named[0], "name", named[1][1:].swapcase() if len(named[1]) > 3 else named[1].swapcase()))
    numbered = next((p for p in products if len(p.number) >= 4), None)
    if numbered:
        found.append((numbered, "productNumber", numbered.number[1:-1].swapcase()))
    coded = next((p for p in products if p.barcodes and len(p.barcodes[0]) >= 8), None)
    if coded:
        found.append((coded, "barcode", coded.barcodes[0][2:-2]))
    return found


@check(
    "SEARCH-01", "q finds products by text in their number, name or barcode, whatever its case", rules=["PRODUCT-R5"]
)
async def search(ctx: Context, products: list[Product]) -> None:
    needles = _needles(products)
    if not needles:
        raise CheckSkipped("no product has a name, number or barcode long enough to search for part of it")
    for product, where, text in needles:
        items, pages = await read_listing(ctx, "/products", 1000, q=text)
        expect(pages[0].status == 200, f"q={text} {pages[0].said}", pages[0])
        found = {str(i.get("productNumber")): i for i in items if isinstance(i, dict)}
        missed = f"q={text}, part of its {where}, did not find product {product.number}"
        expect(product.number in found, missed, *pages[:2])
        unrelated = [n for n, i in found.items() if not _mentions(i, text.casefold())]
        expect(not unrelated, f"q={text} returned products without it: {', '.join(unrelated[:5])}", *pages[:2])


def _mentions(item: dict[str, Any], needle: str) -> bool:
    barcodes = item.get("barcodes")
    texts = [item.get("productNumber"), item.get("name"), *(barcodes if isinstance(barcodes, list) else [])]
    return any(isinstance(t, str) and needle in t.casefold() for t in texts)
