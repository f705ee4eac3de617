"""Imports run one way: the harness above both apps, the simulator an independent oracle, contracts below all.

Inside the portal: entrypoints and adapters above the service layer, the service layer above the domain.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> set[str]:
    """The dotted names of every module that the files of ``package`` import, absolute imports only."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def imported_packages(package: str) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(package)}


def test_the_portal_imports_neither_the_harness_nor_the_simulator() -> None:
    assert not imported_packages("portal") & {"scenarios", "supplier_sim"}


def test_the_simulator_never_imports_the_portal_or_the_scenarios() -> None:
    assert not imported_packages("supplier_sim") & {"portal", "scenarios"}


def test_the_contracts_import_neither_side() -> None:
    assert not imported_packages("contracts") & {"portal", "supplier_sim", "scenarios"}


def test_the_portal_service_layer_imports_neither_sqlalchemy_nor_aiohttp() -> None:
    assert not imported_packages("portal/service_layer") & {"sqlalchemy", "aiohttp"}


def test_the_portal_service_layer_reaches_no_adapter_and_no_entrypoint() -> None:
    portal_modules = {name for name in imported_modules("portal/service_layer") if name.startswith("portal")}
    assert {name.split(".")[1] for name in portal_modules} <= {"domain", "service_layer"}


def test_the_portal_domain_imports_only_the_standard_library() -> None:
    outside = {name for name in imported_modules("portal/domain") if name.split(".")[0] not in sys.stdlib_module_names}
    assert all(name.startswith("portal.domain") for name in outside), outside


SHARED_BY_SERVICES = {"common", "context", "unit_of_work", "retry", "supplier_errors"}


def test_no_service_module_imports_another_only_the_steps_they_share() -> None:
    for path in (ROOT / "portal/service_layer").glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "portal.service_layer":
                named = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal.service_layer."):
                named = {(node.module or "").rsplit(".", 1)[1]}
            else:
                continue
            assert named <= SHARED_BY_SERVICES, f"{path.name} imports {sorted(named - SHARED_BY_SERVICES)}"


def test_the_apps_use_absolute_imports_only_so_that_these_boundaries_see_every_import() -> None:
    for package in ("portal", "supplier_sim", "contracts", "scenarios"):
        for path in (ROOT / package).rglob("*.py"):
            relative = [
                n for n in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(n, ast.ImportFrom) and n.level
            ]
            assert not relative, f"{path.relative_to(ROOT)} has a relative import"
