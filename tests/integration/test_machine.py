"""The stateful model runs in make test with a fixed seed and a bounded number of examples."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from scenarios.machine import RetailerAndSupplier

TestRetailerAndSupplier = RetailerAndSupplier.TestCase
TestRetailerAndSupplier.settings = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
