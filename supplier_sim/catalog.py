"""The supplier's catalog in memory: products kept encoded, so that a page is a join of bytes."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson

from contracts import ContractViolation, contracts
from contracts.gtin import complete, is_valid_gtin
from contracts.wire import format_timestamp, parse_timestamp

CENT = Decimal("0.01")

# (category, sizes, container amounts, reduced tax) - enough variety for realistic names.


@dataclass(slots=True)
class Entry:
    """One product: its document, its encoded form and what a text search looks at."""

    doc: dict[str, Any]
    raw: bytes
    updated_ms: int
    search: str


class CatalogError(ValueError):
    """A catalog file or change that cannot be used, naming the product or row."""


def new_gtin13(rng: random.Random, taken: set[str]) -> str:
    """A GTIN-13 with a German prefix that no product has yet; it joins ``taken``."""
    while True:
        code = complete("40" + f"{rng.randrange(10**10):010d}")
        if code not in taken:
            taken.add(code)
            return code


def check_product(product: Any, where: str) -> None:
    """The product contract, plus what a schema cannot say: every barcode's check digit."""
    try:
        contracts().validate("product", product, context=where)
    except ContractViolation as exc:
        raise CatalogError(str(exc)) from None
    for index, code in enumerate(product["barcodes"]):
        if not is_valid_gtin(code):
            raise CatalogError(f"{where}: /barcodes/{index} has a wrong GTIN check digit")


MAX_KEPT_PAGES = 256


class Catalog:
    """Products in productNumber order, each kept encoded so that a page is a join of bytes."""

    def __init__(self, products: list[dict[str, Any]] | None = None) -> None:
        self._entries: dict[str, Entry] = {}
        self._order: list[str] = []
        self._raw: list[bytes] = []
        self._pages: dict[tuple[int, int], bytes] = {}  # whole-list pages as sent, until the list changes
        self.load(products or [])

    def load(self, products: list[dict[str, Any]]) -> None:
        """Replace every product."""
        self._entries = {}
        numbers = [p["productNumber"] for p in products]
        if len(set(numbers)) != len(numbers):
            raise CatalogError("the catalog has a product number twice")
        for product in sorted(products, key=lambda p: p["productNumber"]):
            self._entries[product["productNumber"]] = _entry(product)
        self._reindex()

    def _reindex(self) -> None:
        self._order = sorted(self._entries)
        self._raw = [self._entries[n].raw for n in self._order]
        self._pages.clear()

    def __len__(self) -> int:
        return len(self._order)

    def get(self, number: str) -> dict[str, Any] | None:
        entry = self._entries.get(number)
        return entry.doc if entry else None

    def barcodes(self) -> set[str]:
        return {code for entry in self._entries.values() for code in entry.doc["barcodes"]}

    def products(self) -> list[dict[str, Any]]:
        return [self._entries[n].doc for n in self._order]

    def numbers(self) -> list[str]:
        return list(self._order)

    def replace(self, product: dict[str, Any]) -> None:
        """Put a changed (or new) product in place; the caller has persisted it."""
        number = product["productNumber"]
        known = number in self._entries
        self._entries[number] = _entry(product)
        if known:
            self._raw[self._order.index(number)] = self._entries[number].raw
            self._pages.clear()
        else:
            self._reindex()

    def matching(self, since_ms: int | None = None, text: str | None = None) -> list[bytes]:
        """The encoded products a listing shows, in productNumber order; the caller must not change the list."""
        if since_ms is None and not text:
            return self._raw
        needle = text.lower() if text else None
        return [
            e.raw
            for e in (self._entries[n] for n in self._order)
            if (since_ms is None or e.updated_ms >= since_ms) and (needle is None or needle in e.search)
        ]

    def matching_case(self, since_ms: int | None = None, text: str | None = None) -> list[bytes]:
        """As ``matching``, but the text must match case and all (the caseSensitiveSearch misbehaviour)."""
        if not text:
            return self.matching(since_ms)
        return [
            e.raw
            for e in (self._entries[n] for n in self._order)
            if (since_ms is None or e.updated_ms >= since_ms) and text in _search_text(e.doc)
        ]

    def page(self, page: int, size: int, since_ms: int | None = None, text: str | None = None) -> bytes:
        """One page of the product list as the JSON body, built from the encoded products.

        A page of the whole list is kept as built until the list changes: most listings ask for one.
        """
        whole = since_ms is None and not text
        if whole and (kept := self._pages.get((page, size))) is not None:
            return kept
        raw = self.matching(since_ms, text)
        start = (page - 1) * size
        body = page_bytes(raw[start : start + size], len(raw), page, size)
        if whole:
            if len(self._pages) >= MAX_KEPT_PAGES:
                self._pages.clear()
            self._pages[(page, size)] = body
        return body


def page_bytes(items: list[bytes], total: int, page: int, size: int) -> bytes:
    """A product page's JSON body around already encoded products."""
    head = b'{"currentPage":%d,"pageSize":%d,"totalPages":%d,"totalItems":%d,"items":[' % (
        page,
        size,
        -(-total // size),
        total,
    )
    return head + b",".join(items) + b"]}"


def changed(
    product: dict[str, Any], kind: str, at_ms: int, rng: random.Random, value: str | None, taken: set[str]
) -> dict[str, Any]:
    """A copy of ``product`` after one catalog change, updated at ``at_ms``."""
    new = copy.deepcopy(product)
    if kind == "price":
        old = Decimal(new["purchasePrice"]["amount"])
        amount = (
            Decimal(value)
            if value
            else max(CENT, (old * Decimal(rng.uniform(0.9, 1.15))).quantize(CENT, ROUND_HALF_UP))
        )
        if amount == old and not value:
            amount += CENT
        new["purchasePrice"]["amount"] = str(amount.quantize(CENT))
    elif kind == "barcode":
        if value and not is_valid_gtin(value):
            raise CatalogError("has a wrong GTIN check digit")
        if value and value in taken:
            raise CatalogError("already belongs to another product")
        new["barcodes"].append(value or new_gtin13(rng, taken))
    elif kind == "withdraw":
        new["active"] = False
    elif kind == "reactivate":
        new["active"] = True
    elif kind == "rename":
        if not value:
            raise CatalogError("a rename needs the new name")
        new["name"] = value
    else:
        raise CatalogError("is not a kind of catalog change this simulator knows")
    new["updatedAt"] = format_timestamp(at_ms)
    return new


def _search_text(product: dict[str, Any]) -> str:
    """What a text search looks at: the product number, the name and the barcodes."""
    return " ".join([product["productNumber"], product["name"], *product["barcodes"]])


def _entry(product: dict[str, Any]) -> Entry:
    return Entry(product, orjson.dumps(product), parse_timestamp(product["updatedAt"]), _search_text(product).lower())
