"""Matching a supplier's list to the retailer's products, and what differs."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.catalog import CatalogEntry, Product


@dataclass(frozen=True, slots=True)
class Match:
    entry: CatalogEntry
    product: Product | None
    matched_by: str | None  # "supplier item" | "barcode" | None
    differences: tuple[str, ...]


def match_all(entries: list[CatalogEntry], products: list[Product]) -> list[Match]:
    """Each supplier product with its retailer product: by supplier item first, then by any barcode."""
    by_item: dict[tuple[int, str], Product] = {}
    by_barcode: dict[str, Product] = {}
    for candidate in products:
        for item in candidate.items:
            by_item[(item.supplier_id, item.product_number)] = candidate
        for code in candidate.barcodes:
            by_barcode.setdefault(code, candidate)
    matches = []
    for entry in entries:
        product = by_item.get((entry.supplier_id, entry.product_number))
        how = "supplier item"
        if product is None:
            product = next((by_barcode[c] for c in entry.barcodes if c in by_barcode), None)
            how = "barcode"
        matches.append(Match(entry, product, how if product else None, differences(entry, product)))
    return matches


def differences(entry: CatalogEntry, product: Product | None) -> tuple[str, ...]:
    """What the supplier's data says that the retailer's product does not."""
    found = ["withdrawn"] if not entry.active else []
    if product is None:
        return tuple(found)
    if product.name != entry.name:
        found.append("name")
    if not set(entry.barcodes) <= set(product.barcodes):
        found.append("barcodes")
    item = product.item_of(entry.supplier_id)
    if item is None or item.purchase_price != entry.purchase_price:
        found.append("price")
    if item is None or item.container_amount != entry.container_amount:
        found.append("container amount")
    return tuple(found)
