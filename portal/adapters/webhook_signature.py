"""The X-Signature of a supplier's webhook event: sha256=<hex HMAC-SHA256 of the raw body>."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value a supplier sends with ``body`` when it shares ``secret``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``; compared in constant time."""
    if header is None or not header.isascii():  # compare_digest refuses non-ASCII text
        return False
    return hmac.compare_digest(sign(secret, body), header)
