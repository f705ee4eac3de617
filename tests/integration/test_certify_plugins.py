"""A retailer's own checks, registered from another package through the entry-point group, run beside ours."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.certify.cli import certify as certify_command
from scenarios.certify.registry import PLUGIN_GROUP, REGISTRY, select
from scenarios.certify.runner import load_plugins
from tests.integration.test_certify import FAST, run

PLUGIN = '''
"""Acme's checks: a retailer that needs the catalog to hold at least three products, and its EAN rule."""

from scenarios.certify.registry import ADVISORY, check, expect


@check("ACME-01", "The catalog holds at least three products", severity=ADVISORY)
async def three_products(ctx, products):
    expect(len(products) >= 3, f"only {len(products)} products")


@check("ACME-02", "Every product has a barcode", severity=ADVISORY)
async def barcodes(ctx, products):
    bare = [p.number for p in products if not p.barcodes]
    expect(not bare, f"products without a barcode: {bare[:3]}")
'''


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An installed distribution, as pip leaves one, whose entry point names a module of checks."""
    (tmp_path / "acme_certify_checks.py").write_text(PLUGIN, "utf-8")
    info = tmp_path / "acme_certify-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-certify\nVersion: 1.0\n", "utf-8")
    (info / "entry_points.txt").write_text(f"[{PLUGIN_GROUP}]\nacme = acme_certify_checks\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = list(REGISTRY)
    yield
    REGISTRY[:] = saved  # the registry is the process's: leave it as the other tests know it
    sys.modules.pop("acme_certify_checks", None)


def test_an_entry_point_registers_its_checks_and_list_checks_shows_where_they_come_from(acme) -> None:  # type: ignore[no-untyped-def]
    assert "acme" in load_plugins()
    assert {"ACME-01", "ACME-02"} <= {c.id for c in REGISTRY}
    listed = CliRunner().invoke(certify_command, ["list-checks"])
    assert listed.exit_code == 0, listed.output
    assert "ACME-01" in listed.output and "from:  acme_certify_checks" in listed.output
    assert "AUTH-01" in listed.output and "not checkable from outside" in listed.output


async def test_a_plugin_s_checks_run_on_the_run_s_fixtures_and_can_fail(acme, start_sim, session) -> None:  # type: ignore[no-untyped-def]
    load_plugins()
    server = await start_sim({**FAST, "catalog": {"size": 2, "changes": []}})
    finished, _ = await run(server, session, checks=select(REGISTRY, ["ACME", "PAGING-01"], []))
    verdicts = {r.id: (r.verdict, r.message) for r in finished.results}
    assert verdicts["PAGING-01"][0] == "passed"
    assert verdicts["ACME-01"] == ("failed", "only 2 products")
    assert verdicts["ACME-02"][0] == "passed"


def test_a_plugin_that_does_not_load_stops_certify_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "broken_certify-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-certify\nVersion: 1.0\n", "utf-8")
    (info / "entry_points.txt").write_text(f"[{PLUGIN_GROUP}]\nbroken = no_such_module_anywhere\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(certify_command, ["list-checks"])
    assert (
        result.exit_code == 1 and "the certify plugin broken (no_such_module_anywhere) does not load" in result.output
    )
