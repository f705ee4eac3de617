"""Every `orderportal` command the README shows parses: its subcommands, options and choices exist as written.

The commands that a reader would run to see a feature work are also run whole, as processes, by
tests/e2e (the demo, the simulator, certify against it, the fault matrix, scenarios and contracts).
"""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path

import click
import pytest

from scenarios.command import main

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")


def commands() -> list[str]:
    """Each `.venv/bin/orderportal ...` line of the README's shell blocks, continuation lines joined."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].split(" > ", 1)[0].strip().removesuffix("&").strip()  # no shell parts
            line = re.sub(r"^([A-Z_]+=\S+\s+)+", "", line)  # an environment variable given before the command
            if line.startswith(".venv/bin/orderportal "):
                found.append(line.removeprefix(".venv/bin/orderportal "))
    return found


def test_the_readme_shows_commands_of_every_kind() -> None:
    kinds = {shlex.split(c)[0] for c in commands()}
    assert {"sim", "portal", "certify", "faults", "scenarios", "contracts", "load"} <= kinds


def unparsed(context: click.Context) -> list[str]:
    """A group's tokens after its own options: the subcommand and its arguments."""
    with warnings.catch_warnings():  # click 8.2 folds protected_args into args; 8.1 keeps them apart
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*context.protected_args, *context.args]


@pytest.mark.parametrize("command", commands())
def test_a_readme_command_parses(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = shlex.split(command)
    for arg in args:  # the files a reader would bring: they must exist for options that insist
        if re.fullmatch(r"[\w./-]+\.(yaml|json|pem|pub)", arg) and not arg.startswith("/"):
            (tmp_path / arg).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / arg).write_text("{}", "utf-8")
    context = main.make_context("orderportal", list(args))
    command_ = main
    while isinstance(command_, click.Group) and (rest := unparsed(context)):
        name, sub, rest = command_.resolve_command(context, rest)
        assert sub is not None, f"no command {name}"
        context = sub.make_context(name or "", rest, parent=context)
        command_ = sub
        for value in context.params.values():  # a click.File argument is opened as it is parsed
            if hasattr(value, "close"):
                value.close()
    assert not context.args, f"left unparsed: {context.args}"
