"""Where a catalog comes from: generated from the seed with faker, or read from a JSON or CSV file."""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from faker import Faker

from contracts.gtin import complete
from contracts.wire import DAY_MS, format_timestamp
from supplier_sim.catalog import CENT, CatalogError, check_product, new_gtin13
from supplier_sim.profile import Profile

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
        gtin = new_gtin13(rng, barcodes)
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


def load_file(path: Path, profile: Profile) -> list[dict[str, Any]]:
    """A catalog from a JSON list of products or a CSV file with the product's field names."""
    if not path.is_file():
        raise CatalogError("the catalog file does not exist or is not a file")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"the catalog file cannot be read as UTF-8 text: {exc.__class__.__name__}") from None
    if path.suffix.lower() == ".csv":
        rows = [_from_csv(row, profile) for row in csv.DictReader(io.StringIO(text, newline=""))]
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f" at line {exc.lineno}, column {exc.colno}"
            raise CatalogError(f"the catalog file is not JSON{where}") from None
        rows = loaded["items"] if isinstance(loaded, dict) and "items" in loaded else loaded
        if not isinstance(rows, list):
            raise CatalogError("the catalog file holds neither a list of products nor a page with items")
        start = format_timestamp(profile.clock_start_ms)
        rows = [{"updatedAt": start, "active": True, **row} if isinstance(row, dict) else row for row in rows]
    for index, row in enumerate(rows):
        check_product(row, where=f"the catalog file's product {index + 1}")
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
