"""The stateful model runs in make test with a fixed seed and a bounded number of examples.

A failure prints hypothesis's shortest failing sequence and the command that reproduces it.
"""

from __future__ import annotations

from scenarios.fuzzing import Budget, search


def test_the_model_of_a_retailer_and_a_supplier_keeps_its_invariants() -> None:
    search(Budget(examples=15, steps=25, seed=0))
