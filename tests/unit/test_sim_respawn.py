"""A worker that dies is replaced at once; while workers keep dying young, each replacement waits longer."""

from __future__ import annotations

from supplier_sim.workers import LONGEST_RESPAWN_PAUSE_S, respawn_pause_s


def test_the_first_replacement_starts_at_once_then_the_pause_doubles_up_to_its_cap() -> None:
    pauses = [respawn_pause_s(deaths) for deaths in range(1, 12)]
    assert pauses[:5] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert pauses[-1] == LONGEST_RESPAWN_PAUSE_S
    assert pauses == sorted(pauses)
