"""Every command's --help names every environment variable the command reads."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from scenarios.command import main
from tests.unit.test_boundaries import ROOT


def commands(group: click.Group = main, path: str = "orderportal") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")


def help_of(command: click.Command, path: str) -> str:
    with click.Context(command, info_name=path) as ctx:
        return command.get_help(ctx)


def test_every_option_read_from_the_environment_names_its_variable_in_the_help() -> None:
    unnamed = [
        f"{path}: {var}"
        for path, command in commands()
        for param in command.params
        for var in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
        if var not in help_of(command, path)
    ]
    assert not unnamed


def test_every_variable_the_code_reads_is_named_in_some_help() -> None:
    read = set()
    for package in ("contracts", "portal", "scenarios", "supplier_sim"):
        for source in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(r"""(?:environ\.get|getenv|environ\[)\(?["']([A-Z_]+)["']""", source.read_text()))
    helps = "".join(help_of(command, path) for path, command in commands())
    assert read and not {var for var in read if var not in helps}, read


def test_fuzz_names_the_cache_folder_it_defaults_to() -> None:
    shown = " ".join(help_of(dict(commands())["orderportal scenarios fuzz"], "orderportal scenarios fuzz").split())
    assert "$XDG_CACHE_HOME/orderportal/hypothesis, or ~/.cache/orderportal/hypothesis" in shown
