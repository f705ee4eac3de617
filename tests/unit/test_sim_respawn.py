"""A worker that dies is replaced at once; while workers keep dying young, each replacement waits longer."""

from __future__ import annotations

from supplier_sim.workers import LONGEST_RESPAWN_PAUSE_S, Respawns, respawn_pause_s


def test_the_first_replacement_starts_at_once_then_the_pause_doubles_up_to_its_cap() -> None:
    pauses = [respawn_pause_s(deaths) for deaths in range(1, 12)]
    assert pauses[:5] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert pauses[-1] == LONGEST_RESPAWN_PAUSE_S
    assert pauses == sorted(pauses)


def test_the_pauses_grow_only_while_workers_keep_dying_young() -> None:
    respawns = Respawns()
    assert [respawns.pause_s(lived_s=1, now=t) for t in (100, 101, 102)] == [0.0, 0.5, 1.0]
    assert respawns.pause_s(lived_s=3600, now=103) == 0.0  # one that served long died of something else
    assert respawns.pause_s(lived_s=1, now=104) == 0.5
    assert respawns.pause_s(lived_s=1, now=10_000) == 0.0  # long after the last run of deaths: calm again
