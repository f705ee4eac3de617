"""The X-Signature of webhook events: signed as the simulator signs, verified in constant time."""

from __future__ import annotations

import pytest

from portal.adapters.webhook_signature import sign, verify
from supplier_sim.webhooks import sign as supplier_sign

SECRET = "webhook-secret-0123456789"
BODY = b'{"eventId":"evt-1","type":"order.status-changed"}'


def test_a_signature_is_sha256_and_64_lowercase_hex_digits() -> None:
    signature = sign(SECRET, BODY)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert signature[7:] == signature[7:].lower() and int(signature[7:], 16) >= 0


def test_the_portal_signs_exactly_as_the_supplier_does() -> None:
    assert sign(SECRET, BODY) == supplier_sign(SECRET, BODY)


def test_a_signed_body_verifies() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY))


def test_a_tampered_body_does_not_verify() -> None:
    assert not verify(SECRET, BODY.replace(b"evt-1", b"evt-2"), sign(SECRET, BODY))


def test_a_body_signed_with_another_secret_does_not_verify() -> None:
    assert not verify(SECRET, BODY, sign("another-secret-0123456789", BODY))


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "garbage", "sha1=0123", "sha256=zz", "sha256=ünïcödé", "SHA256=" + "0" * 64],
)
def test_a_missing_or_malformed_header_does_not_verify(header: str | None) -> None:
    assert not verify(SECRET, BODY, header)


def test_the_header_must_carry_the_prefix() -> None:
    assert not verify(SECRET, BODY, sign(SECRET, BODY).removeprefix("sha256="))
