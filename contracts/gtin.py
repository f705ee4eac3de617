"""GTIN-8/12/13/14 check digits (GS1 mod 10)."""

from __future__ import annotations

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def check_digit(body: str) -> int:
    """The GS1 check digit for the digits that precede it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return len(code) in GTIN_LENGTHS and code.isascii() and code.isdigit() and check_digit(code[:-1]) == int(code[-1])


def complete(body: str) -> str:
    """Append the check digit to ``body``."""
    return body + str(check_digit(body))
