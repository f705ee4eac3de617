"""Every random choice of a run comes from its seed, keyed by what it is for."""

from __future__ import annotations

import math
import random

from supplier_sim.profile import Delay


def rng_for(seed: int, *purpose: object) -> random.Random:
    """A generator that depends only on the seed and the purpose, never on arrival order."""
    return random.Random(":".join([str(seed), *map(str, purpose)]))


def draw(delay: Delay, rng: random.Random) -> int:
    """A delay in milliseconds."""
    if delay.median_ms is not None:
        return draw_log_normal(delay.median_ms, delay.sigma, delay.high_ms, rng)
    return delay.low_ms if delay.low_ms == delay.high_ms else rng.randint(delay.low_ms, delay.high_ms)


def draw_log_normal(median_ms: int, sigma: float, cap_ms: int, rng: random.Random) -> int:
    """A log-normal delay (mu = ln median) in milliseconds, never above the cap."""
    # Clamped in log space, so that a far tail draw cannot overflow exp().
    exponent = min(rng.gauss(math.log(median_ms), sigma), math.log(cap_ms))
    return min(round(math.exp(exponent)), cap_ms)
