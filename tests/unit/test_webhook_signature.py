"""Webhook signatures: over the send time and the body, verified in constant time within a replay window."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from contracts.signing import REPLAY_WINDOW_S, refusal, sign, signed_headers

SECRET = "webhook-secret-0123456789"
BODY = b'{"eventId":"evt-1","type":"order.status-changed"}'
NOW = 1_790_000_000


def check(body: bytes = BODY, signature: str | None = None, timestamp: str | None = str(NOW), now: float = NOW):
    return refusal(SECRET, body, sign(SECRET, BODY, NOW) if signature is None else signature, timestamp, now)


def test_a_signature_is_the_hmac_of_the_timestamp_a_full_stop_and_the_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, NOW) == "sha256=" + expected
    assert signed_headers(SECRET, BODY, NOW) == {"X-Signature-Timestamp": str(NOW), "X-Signature": "sha256=" + expected}


def test_a_fresh_signed_body_is_accepted_up_to_the_edge_of_the_window() -> None:
    assert check() is None
    assert check(now=NOW + REPLAY_WINDOW_S) is None
    assert check(now=NOW - REPLAY_WINDOW_S) is None  # a sender's clock a little ahead


def test_a_replay_after_the_window_is_refused_though_the_signature_is_genuine() -> None:
    assert "outside the replay window" in (check(now=NOW + REPLAY_WINDOW_S + 1) or "")
    assert "outside the replay window" in (check(now=NOW - REPLAY_WINDOW_S - 1) or "")


def test_a_tampered_body_or_timestamp_does_not_verify() -> None:
    assert "does not match" in (check(body=BODY.replace(b"evt-1", b"evt-2")) or "")
    assert "does not match" in (check(timestamp=str(NOW + 1), now=NOW + 1) or "")


def test_a_body_signed_with_another_secret_does_not_verify() -> None:
    assert "does not match" in (check(signature=sign("another-secret-0123456789", BODY, NOW)) or "")


@pytest.mark.parametrize(
    "header",
    ["", "sha256=", "garbage", "sha1=0123", "sha256=zz", "sha256=ünïcödé", "SHA256=" + "0" * 64],
)
def test_a_malformed_signature_does_not_verify(header: str) -> None:
    assert check(signature=header) is not None


@pytest.mark.parametrize("timestamp", [None, "", "-5", "1.5", "١٢٣", "9" * 40, " 1790000000"])
def test_a_missing_or_malformed_timestamp_is_refused(timestamp: str | None) -> None:
    assert check(timestamp=timestamp) is not None


def test_a_missing_signature_is_refused() -> None:
    assert "missing" in (refusal(SECRET, BODY, None, str(NOW), NOW) or "")


def test_the_header_must_carry_the_prefix() -> None:
    assert check(signature=sign(SECRET, BODY, NOW).removeprefix("sha256=")) is not None
