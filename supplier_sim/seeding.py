"""Every random choice of a run comes from its seed, keyed by what it is for."""

from __future__ import annotations

import random

from supplier_sim.profile import Delay


def rng_for(seed: int, *purpose: object) -> random.Random:
    """A generator that depends only on the seed and the purpose, never on arrival order."""
    return random.Random(":".join([str(seed), *map(str, purpose)]))


def draw(delay: Delay, rng: random.Random) -> int:
    """A delay in milliseconds."""
    return delay.low_ms if delay.low_ms == delay.high_ms else rng.randint(delay.low_ms, delay.high_ms)
