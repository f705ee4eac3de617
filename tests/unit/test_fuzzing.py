"""The fuzz search: its progress, the command that reproduces a failure, and where hypothesis keeps its files."""

from __future__ import annotations

from pathlib import Path

import hypothesis.configuration
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from scenarios.cache import default_cache_dir
from scenarios.fuzzing import Budget, search
from scenarios.progress import Progress
from tests.unit.test_boundaries import ROOT


class Counter(RuleBasedStateMachine):
    """A toy model whose invariant breaks once the count passes three."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @rule(by=st.integers(1, 2))
    def add(self, by: int) -> None:
        self.count += by

    @invariant()
    def small(self) -> None:
        assert self.count <= 3, self.count


class Calm(Counter):
    @invariant()
    def small(self) -> None:
        pass


def test_a_failure_is_noted_with_the_command_that_reproduces_it_and_its_run_is_told(tmp_path: Path) -> None:
    told: list[bool] = []
    with pytest.raises(AssertionError) as caught:
        search(Budget(20, 10, 3), Counter, cache_dir=tmp_path, on_run=told.append)
    assert caught.value.__notes__[-1] == (
        f"reproduce: orderportal scenarios fuzz --examples 20 --steps 10 --seed 3 --cache-dir {tmp_path}"
    )
    assert any(told) and (tmp_path / "examples").is_dir()  # the failure is kept, to be replayed first


def test_a_search_that_holds_tells_every_run_as_passing() -> None:
    told: list[bool] = []
    search(Budget(5, 3, 0), Calm, on_run=told.append)
    assert len(told) >= 5 and not any(told)


def test_progress_in_a_log_is_a_plain_line_every_tenth_of_the_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress(20, terminal=False) as progress:
        for failed in [False] * 5 + [True, False, False]:
            progress.ran(failed)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{n} of 20 runs" for n in (2, 4)] + [
        "run 6 broke an invariant; shrinking it to the shortest run that still fails"
    ]


def test_the_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "orderportal" / "hypothesis"


def test_the_tests_keep_hypothesis_files_out_of_the_repository() -> None:
    where = hypothesis.configuration.storage_directory(intent_to_write=False).path.resolve()
    assert not where.is_relative_to(ROOT), where
