"""Bulk work with the cyclic garbage collector paused: an import allocates a million acyclic objects.

Python 3.11 runs a collection every 700 new container objects and a full one as the heap grows, so
a 100,000-product import spends a quarter of its time scanning objects that reference counting
frees anyway. The collector is paused while any bulk action runs and resumes after the last one.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_running = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection until the block (and any other such block running meanwhile) ends."""
    global _running, _resume
    if _running == 0:
        _resume = gc.isenabled()
        gc.disable()
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if _running == 0 and _resume:
            gc.enable()
