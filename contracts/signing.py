"""Webhook signatures: an HMAC-SHA256 over the send time and the raw body, checked in a replay window.

A supplier sends two headers with each event:

- ``X-Signature-Timestamp``: when it signed the event, in whole Unix seconds of the real clock;
- ``X-Signature``: ``sha256=`` and the lowercase hex HMAC-SHA256, keyed with the registration's
  secret, of the timestamp, a full stop and the raw body.

A receiver refuses an event whose signature does not match (tampered, or another secret) and one
whose timestamp lies outside the replay window: a recorded event sent again later is refused even
though its signature is genuine. Within the window, the event id catches a replay.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE = "X-Signature"
TIMESTAMP = "X-Signature-Timestamp"
PREFIX = "sha256="
REPLAY_WINDOW_S = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Signature of ``body`` sent at ``timestamp`` by a supplier that shares ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Both signature headers for an event sent at ``timestamp``."""
    return {TIMESTAMP: str(timestamp), SIGNATURE: sign(secret, body, timestamp)}


def refusal(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_s: float,
    window_s: int = REPLAY_WINDOW_S,
) -> str | None:
    """Why the event must be refused, or None when it is genuine and fresh; compared in constant time."""
    if signature is None or timestamp is None:
        return f"the {SIGNATURE} or {TIMESTAMP} header is missing"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return f"the {TIMESTAMP} is not whole Unix seconds"
    if not signature.isascii():  # compare_digest refuses non-ASCII text
        return f"the {SIGNATURE} does not match the body"
    if not hmac.compare_digest(sign(secret, body, int(timestamp)), signature):
        return f"the {SIGNATURE} does not match the body"
    age = now_s - int(timestamp)
    if abs(age) > window_s:
        return f"the event was signed {int(age)} s ago, outside the replay window of {window_s} s"
    return None
