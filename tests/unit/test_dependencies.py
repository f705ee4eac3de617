"""What the installed commands import is installed with them: `make demo` installs no test extra."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata

from tests.unit.test_boundaries import ROOT, imported_packages

PACKAGES = ("contracts", "portal", "scenarios", "supplier_sim")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def runtime_distributions() -> set[str]:
    """The base dependencies of pyproject.toml and, from what is installed, everything they require."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    found: set[str] = set()
    todo = [_name(r) for r in declared]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # a dependency for another platform or Python
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return found


def test_every_package_the_commands_import_is_a_runtime_dependency() -> None:
    owners = metadata.packages_distributions()
    runtime = runtime_distributions()
    imported = set().union(*(imported_packages(p) for p in PACKAGES)) - set(sys.stdlib_module_names) - set(PACKAGES)
    imported.discard("pytest_asyncio")  # supplier_sim/pytest_plugin.py: loaded only by pytest, which brings it
    missing = {m for m in imported if not {_name(d) for d in owners.get(m, [m])} & runtime}
    assert not missing, f"imported but only a test extra, or not declared: {sorted(missing)}"
