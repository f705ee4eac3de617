"""The import's baseline: the same rows, one executemany into a bare SQLite table. Standard library only,
so that ``python bench/bare_sqlite.py PAGES DB`` times it in a process with nothing else in memory."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any


def bare_insert(products: list[dict[str, Any]], path: Path) -> float:
    """Seconds to write ``products`` (as the Supplier API gives them) with one executemany and a commit.

    The flag goes in as the int SQLite keeps: a bool costs sqlite3 an adapter lookup per row.
    """
    values = [
        (
            1,
            p["productNumber"],
            p["name"],
            ",".join(p["barcodes"]),
            p["containerAmount"],
            p["purchasePrice"]["amount"],
            p["purchasePrice"]["currency"],
            p["taxRate"],
            int(p["active"]),
            p["updatedAt"],
        )
        for p in products
    ]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE entries (supplier_id, product_number, name, barcodes, container_amount, "
        "purchase_price, currency, tax_rate, active, updated_at, UNIQUE (supplier_id, product_number))"
    )
    started = time.perf_counter()
    with db:
        db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    """Child: PAGES holds one product page's JSON a line; print the seconds the insert into DB took."""
    pages, db = Path(sys.argv[1]), Path(sys.argv[2])
    rows = [p for line in pages.read_bytes().splitlines() for p in json.loads(line)["items"]]
    print(bare_insert(rows, db))


if __name__ == "__main__":
    main()
