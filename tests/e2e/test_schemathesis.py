"""Schemathesis runs against the simulator's contracts/openapi.yaml over loopback: no 5xx, every answer conforms.

The simulator runs as its own process (`orderportal sim`); the examples are few and derandomized, so the
run is the same every time.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

import contracts

OPENAPI = Path(contracts.__file__).parent / "openapi.yaml"
API_KEY = {"X-Api-Key": "east-demo-key-3f9a27c1d8e4"}  # customer 10003 of the default profile


CASES: Counter[str] = Counter()  # per operation


@pytest.fixture(scope="module")
def sim_url(request: pytest.FixtureRequest) -> Iterator[str]:
    command = [sys.executable, "-m", "scenarios.command", "sim", "--port", "0", "--clock", "virtual"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
        assert found
        yield found.group(0)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    line = f"\nschemathesis: {CASES.total()} cases against the simulator over {len(CASES)} operations"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():  # printed even when captured
        print(line)


schema = schemathesis.openapi.from_path(OPENAPI)  # a file read: the simulator starts only when the test runs
# Valid requests only: every call is made as customer 10003, which would turn a generated bad customer
# number into a good one. Bad input has its own tests, case by case.
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_simulator_meets_its_openapi_contract(case: schemathesis.Case, sim_url: str) -> None:
    CASES[case.operation.label] += 1
    if "customerNumber" in (case.path_parameters or {}):
        case.path_parameters["customerNumber"] = "10003"  # the customer whose key every call carries
    # The key is set on every call, so schemathesis's own check of refused credentials does not apply here.
    excluded = [ignored_auth]
    if case.method == "POST" and case.path.endswith("/orders"):
        # quantity = containers x containerAmount cannot be written in JSON Schema: a schema-valid order
        # that breaks it is rightly refused with a 422 naming the field.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=sim_url, headers=API_KEY, excluded_checks=excluded)
