"""The simulator's clocks: real time, or virtual time that moves only when told to."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    mode: str

    def now_ms(self) -> int: ...


class RealClock:
    mode = "real"

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class VirtualClock:
    """Starts at a fixed instant, so that a run is the same every time."""

    mode = "virtual"

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def set(self, ms: int) -> None:
        if ms < self._now:
            raise ValueError("the virtual clock never goes back")
        self._now = ms


def make_clock(mode: str, start_ms: int) -> RealClock | VirtualClock:
    if mode == "real":
        return RealClock()
    if mode == "virtual":
        return VirtualClock(start_ms)
    raise ValueError(f"unknown clock {mode!r}; use real or virtual")
