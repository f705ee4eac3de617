"""The supplier client's retry policy: exponential backoff with full jitter, never shorter than Retry-After."""

from __future__ import annotations

import random

import pytest

from portal.adapters.supplier_answers import retry_after as _retry_after
from portal.service_layer.retry import RetryPolicy


def test_pauses_grow_exponentially_up_to_the_cap_with_full_jitter() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=3.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        pauses = [policy.pause(attempt, None, rng) for _ in range(200)]
        assert min(pauses) >= 0 and max(pauses) <= ceiling
        assert max(pauses) > ceiling * 0.8  # full jitter spreads over the whole range


def test_retry_after_is_a_floor_for_the_pause() -> None:
    assert RetryPolicy().pause(1, 7.0, random.Random(0)) == 7.0


@pytest.mark.parametrize("fields", [{"attempts": 0}, {"base_s": -1}, {"base_s": 2, "cap_s": 1}, {"deadline_s": 0}])
def test_an_impossible_policy_is_refused(fields: dict) -> None:
    with pytest.raises(ValueError, match="impossible retry policy"):
        RetryPolicy(**fields)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 12 ", 12.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("²", None),  # a digit to str.isdigit, not to float()
        ("١٢", None),
        ("-5", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_a_date(header: str | None, seconds: float | None) -> None:
    assert _retry_after(header) == seconds
