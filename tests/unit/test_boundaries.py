"""Imports run one way: the harness above both apps, the simulator an independent oracle, contracts below all."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_packages(package: str) -> set[str]:
    found = set()
    root = ROOT / package
    for path in [root] if root.suffix == ".py" else root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_the_portal_imports_neither_the_harness_nor_the_simulator() -> None:
    assert not imported_packages("portal") & {"scenarios", "supplier_sim"}


def test_the_simulator_never_imports_the_portal_or_the_scenarios() -> None:
    assert not imported_packages("supplier_sim") & {"portal", "scenarios"}


def test_the_contracts_import_neither_side() -> None:
    assert not imported_packages("contracts") & {"portal", "supplier_sim", "scenarios"}


def test_the_portal_service_layer_imports_neither_sqlalchemy_nor_aiohttp() -> None:
    assert not imported_packages("portal/service_layer") & {"sqlalchemy", "aiohttp"}


def test_the_portal_domain_imports_only_the_standard_library() -> None:
    import sys

    outside = {name for name in imported_packages("portal/domain") if name not in sys.stdlib_module_names}
    assert outside <= {"portal"}
    assert not {m for m in _portal_modules("portal/domain") if not m.startswith("portal.domain")}


def _portal_modules(package: str) -> set[str]:
    """The portal modules that ``package`` imports, by their dotted names."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("portal"):
                found.add(node.module)
    return found
