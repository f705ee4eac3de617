"""The stateful model runs in make test with a fixed seed and a bounded number of examples.

A failure prints hypothesis's shortest failing sequence and the command that reproduces it.
"""

from __future__ import annotations

from scenarios.machine import model_case

TestRetailerAndSupplier = model_case(examples=15, steps=25, seed=0)
