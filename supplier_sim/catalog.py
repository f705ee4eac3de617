"""The supplier's catalog: generated from the seed or read from a file, served from memory."""

from __future__ import annotations

import copy
import csv
import json
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson
from faker import Faker

from contracts import ContractViolation, contracts
from contracts.gtin import complete, is_valid_gtin
from contracts.wire import DAY_MS, format_timestamp, parse_timestamp
from supplier_sim.profile import Profile

CENT = Decimal("0.01")

# (category, sizes, container amounts, reduced tax) - enough variety for realistic names.
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[int, ...], bool], ...] = (
    ("Sparkling Water", ("0.5 l", "1 l", "1.5 l"), (6, 12), True),
    ("Orange Juice", ("0.2 l", "1 l"), (6, 12, 24), True),
    ("Apple Juice", ("0.2 l", "1 l"), (6, 12, 24), True),
    ("Cola", ("0.33 l", "0.5 l", "1.5 l"), (6, 12, 24), False),
    ("Lager Beer", ("0.33 l", "0.5 l"), (6, 20, 24), False),
    ("Red Wine", ("0.75 l",), (1, 6), False),
    ("Espresso Beans", ("250 g", "500 g", "1 kg"), (1, 6, 10), True),
    ("Ground Coffee", ("250 g", "500 g"), (6, 12), True),
    ("Green Tea", ("20 bags", "50 bags"), (6, 12), True),
    ("Dark Chocolate", ("100 g", "200 g"), (10, 12, 24), True),
    ("Milk Chocolate", ("100 g", "300 g"), (10, 12, 24), True),
    ("Potato Chips", ("125 g", "175 g"), (10, 12, 24), True),
    ("Salted Pretzels", ("200 g",), (10, 12), True),
    ("Spaghetti", ("500 g", "1 kg"), (10, 12, 24), True),
    ("Basmati Rice", ("500 g", "1 kg", "5 kg"), (1, 6, 10), True),
    ("Tomato Sauce", ("400 g", "690 g"), (6, 12), True),
    ("Olive Oil", ("0.5 l", "0.75 l", "1 l"), (6, 12), True),
    ("Oat Flakes", ("500 g",), (6, 10, 12), True),
    ("Peanut Butter", ("350 g",), (6, 12), True),
    ("Strawberry Jam", ("340 g",), (6, 12), True),
    ("Paper Towels", ("4 rolls", "8 rolls"), (1, 6), False),
    ("Toilet Paper", ("8 rolls", "16 rolls"), (1, 6), False),
    ("Dish Soap", ("500 ml", "1 l"), (6, 12), False),
    ("Laundry Detergent", ("1.5 l", "3 l"), (1, 6), False),
    ("Shampoo", ("250 ml", "400 ml"), (6, 12), False),
    ("Toothpaste", ("75 ml", "125 ml"), (12, 24), False),
    ("Batteries AA", ("4 pack", "8 pack"), (10, 12), False),
    ("Tea Lights", ("50 pack", "100 pack"), (6, 10), False),
    ("Dog Food", ("400 g", "800 g"), (6, 12, 24), True),
    ("Cat Litter", ("10 l",), (1,), False),
)
VARIANTS = ("", "", "", "Organic ", "Classic ", "Premium ", "Light ", "Family ", "Bio ", "Original ")
CONTAINER_NAMES = {1: "Piece", 6: "Six-pack", 10: "Box of 10", 12: "Case of 12", 20: "Crate of 20", 24: "Tray of 24"}


@dataclass(slots=True)
class Entry:
    """One product: its document, its encoded form and what a text search looks at."""

    doc: dict[str, Any]
    raw: bytes
    updated_ms: int
    search: str


class CatalogError(ValueError):
    """A catalog file or change that cannot be used, naming the product or row."""


def generate(profile: Profile, seed: int) -> list[dict[str, Any]]:
    """``profile.catalog_size`` realistic products, the same for the same seed."""
    rng = random.Random(f"{seed}:catalog")
    fake = Faker("en_US")
    fake.seed_instance(seed)
    brands = sorted({fake.last_name() for _ in range(400)})
    barcodes: set[str] = set()
    number = 100_000
    start = profile.clock_start_ms
    products = []
    for _ in range(profile.catalog_size):
        number += rng.randint(1, 9)
        category, sizes, amounts, reduced = rng.choice(CATEGORIES)
        brand, size = rng.choice(brands), rng.choice(sizes)
        amount = rng.choice(amounts)
        price = Decimal(rng.randint(19, 4999)) * CENT
        gtin = _new_gtin13(rng, barcodes)
        codes = [gtin]
        if amount > 1 and rng.random() < 0.25:
            codes.append(complete("1" + gtin[:12]))  # the case's GTIN-14, indicator digit 1
        product: dict[str, Any] = {
            "productNumber": f"SP{number:07d}",
            "name": f"{brand} {rng.choice(VARIANTS)}{category} {size}",
            "barcodes": codes,
            "containerAmount": amount,
            "containerName": CONTAINER_NAMES[amount],
            "purchasePrice": {"amount": str(price), "currency": profile.currency},
            "taxRate": _tax_rate(profile.tax_rates, reduced),
            "active": rng.random() >= profile.inactive_rate,
            "updatedAt": format_timestamp(start - rng.randint(1, 90) * DAY_MS + rng.randint(0, DAY_MS)),
        }
        if rng.random() < 0.7:
            rrp = (price * Decimal(rng.uniform(1.3, 1.9))).quantize(CENT, ROUND_HALF_UP)
            product["recommendedRetailPrice"] = {"amount": str(rrp), "currency": profile.currency}
        if rng.random() < 0.5:
            product["description"] = f"{category} by {brand}, {size}."
        products.append(product)
    return products


def _tax_rate(rates: tuple[str, ...], reduced: bool) -> str:
    return rates[-1] if reduced else rates[0]


def _new_gtin13(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = complete("40" + f"{rng.randrange(10**10):010d}")
        if code not in taken:
            taken.add(code)
            return code


def load_file(path: Path, profile: Profile) -> list[dict[str, Any]]:
    """A catalog from a JSON list of products or a CSV file with the product's field names."""
    if not path.exists():
        raise CatalogError(f"catalog file {path} does not exist")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [_from_csv(row, profile) for row in csv.DictReader(handle)]
    else:
        try:
            loaded = json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}: not JSON: {exc}") from None
        rows = loaded["items"] if isinstance(loaded, dict) and "items" in loaded else loaded
        if not isinstance(rows, list):
            raise CatalogError(f"{path}: expected a list of products or a page with items")
        start = format_timestamp(profile.clock_start_ms)
        rows = [{"updatedAt": start, "active": True, **row} if isinstance(row, dict) else row for row in rows]
    for index, row in enumerate(rows):
        check_product(row, where=f"{path}: product {index + 1}")
    return rows


def _from_csv(row: dict[str, str], profile: Profile) -> dict[str, Any]:
    currency = row.get("currency") or profile.currency
    product: dict[str, Any] = {
        "productNumber": row.get("productNumber", ""),
        "name": row.get("name", ""),
        "barcodes": [b for b in (row.get("barcodes") or "").replace("|", ";").split(";") if b],
        "containerAmount": int(row["containerAmount"])
        if (row.get("containerAmount") or "").isdigit()
        else row.get("containerAmount"),
        "purchasePrice": {"amount": row.get("purchasePrice", ""), "currency": currency},
        "taxRate": row.get("taxRate", ""),
        "active": (row.get("active") or "true").strip().lower() in ("true", "1", "yes"),
        "updatedAt": row.get("updatedAt") or format_timestamp(profile.clock_start_ms),
    }
    for optional in ("description", "containerName"):
        if row.get(optional):
            product[optional] = row[optional]
    if row.get("recommendedRetailPrice"):
        product["recommendedRetailPrice"] = {"amount": row["recommendedRetailPrice"], "currency": currency}
    return product


def check_product(product: Any, where: str) -> None:
    """The product contract, plus what a schema cannot say: every barcode's check digit."""
    try:
        contracts().validate("product", product, context=where)
    except ContractViolation as exc:
        raise CatalogError(str(exc)) from None
    for index, code in enumerate(product["barcodes"]):
        if not is_valid_gtin(code):
            raise CatalogError(f"{where}: /barcodes/{index}: {code} has a wrong GTIN check digit")


class Catalog:
    """Products in productNumber order, each kept encoded so that a page is a join of bytes."""

    def __init__(self, products: list[dict[str, Any]] | None = None) -> None:
        self._entries: dict[str, Entry] = {}
        self._order: list[str] = []
        self._raw: list[bytes] = []
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

    def __len__(self) -> int:
        return len(self._order)

    def get(self, number: str) -> dict[str, Any] | None:
        entry = self._entries.get(number)
        return entry.doc if entry else None

    def barcodes(self) -> set[str]:
        return {code for entry in self._entries.values() for code in entry.doc["barcodes"]}

    def numbers(self) -> list[str]:
        return list(self._order)

    def replace(self, product: dict[str, Any]) -> None:
        """Put a changed (or new) product in place; the caller has persisted it."""
        number = product["productNumber"]
        known = number in self._entries
        self._entries[number] = _entry(product)
        if known:
            self._raw[self._order.index(number)] = self._entries[number].raw
        else:
            self._reindex()

    def page(self, page: int, size: int, since_ms: int | None = None, text: str | None = None) -> bytes:
        """One page of the product list as the JSON body, built from the encoded products."""
        if since_ms is None and not text:
            raw = self._raw
        else:
            needle = text.lower() if text else None
            raw = [
                e.raw
                for e in (self._entries[n] for n in self._order)
                if (since_ms is None or e.updated_ms >= since_ms) and (needle is None or needle in e.search)
            ]
        total = len(raw)
        start = (page - 1) * size
        head = b'{"currentPage":%d,"pageSize":%d,"totalPages":%d,"totalItems":%d,"items":[' % (
            page,
            size,
            -(-total // size),
            total,
        )
        return head + b",".join(raw[start : start + size]) + b"]}"


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
            raise CatalogError(f"{value} has a wrong GTIN check digit")
        if value and value in taken:
            raise CatalogError(f"barcode {value} already belongs to a product")
        new["barcodes"].append(value or _new_gtin13(rng, taken))
    elif kind == "withdraw":
        new["active"] = False
    elif kind == "reactivate":
        new["active"] = True
    elif kind == "rename":
        if not value:
            raise CatalogError("a rename needs the new name")
        new["name"] = value
    else:
        raise CatalogError(f"unknown catalog change {kind!r}")
    new["updatedAt"] = format_timestamp(at_ms)
    return new


def _entry(product: dict[str, Any]) -> Entry:
    search = " ".join([product["productNumber"], product["name"], *product["barcodes"]]).lower()
    return Entry(product, orjson.dumps(product), parse_timestamp(product["updatedAt"]), search)
