"""A real browser opens the HTML reports: the verdict, the summary, the marked pointer, and what folds.

Chromium comes from the OS packages (`.ci/run` installs Debian's `chromium`): see tests/e2e/browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios.certify.registry import REGISTRY
from scenarios.certify.reports import write_all
from scenarios.reporting import write_html
from scenarios.runner import load
from scenarios.runner import run as run_scenario
from tests.e2e.browser import chromium
from tests.integration.test_certify import FAST, run

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a test extra: make test installs it")


async def test_a_failing_certification_report_reads_well_in_a_browser(start_sim, session, tmp_path: Path) -> None:
    executable = chromium()
    server = await start_sim({**FAST, "misbehave": {"wrongFieldType": True, "overlappingOrderPages": True}})
    _, collector = await run(server, session)
    page_path = write_all(collector.document(), tmp_path)[2]
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            await page.goto(page_path.as_uri())
            assert await page.locator("header.banner h1").inner_text() == "NOT CERTIFIED"
            assert await page.locator("table.summary tr[data-check]").count() == len(REGISTRY)
            failed = page.locator("table.summary tr[data-check='LIST-01'] .badge")
            assert await failed.inner_text() == "failed"
            mark = page.locator("#CONTRACT-01 mark").first
            # The failing pointer, /items/0/containerAmount, marked in the answer: a number sent as a string.
            assert await mark.is_visible() and re.fullmatch(r'"\d+"', await mark.inner_text())
            headers = page.locator("#CONTRACT-01 details").filter(has_text="Headers").first
            assert not await headers.evaluate("element => element.open")
            await headers.locator("summary").click()
            assert await headers.evaluate("element => element.open")  # expands on a click, and folds again
            await headers.locator("summary").click()
            assert not await headers.evaluate("element => element.open")
            shot = tmp_path / "certification-failing.png"
            await page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            assert fetched == [page_path.as_uri()]  # self-contained: the page fetched nothing else
        finally:
            await browser.close()


async def test_a_failing_scenario_report_reads_well_in_a_browser(tmp_path: Path) -> None:
    executable = chromium()
    passing = load("couples.yaml", "name: couples\nsteps:\n  - couple: {customer: '10001'}\n")
    wrong = "  - couple: {customer: '10001'}\n  - open: {expect: {fetched: 41}}\n  - update_products: {}\n"
    failing = load("wrong.yaml", f"name: wrong\nsteps:\n{wrong}")
    results = [await run_scenario(scenario, lambda event: None) for scenario in (passing, failing)]
    page_path = tmp_path / "scenarios.html"
    write_html(results, page_path)
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            await page.goto(page_path.as_uri())
            assert await page.locator("header.banner h1").inner_text() == "1 of 2 scenarios failed"
            rows = page.locator("table.summary tr[data-scenario]")
            assert await rows.evaluate_all("rows => rows.map(row => row.dataset.scenario)") == ["couples", "wrong"]
            assert await page.locator("tr[data-scenario='wrong'] .badge").inner_text() == "failed"
            failure = page.locator("section[data-scenario='wrong'] [data-failed-step='2']")
            expected, found = failure.locator("pre.expected"), failure.locator("pre.found")
            assert await expected.is_visible() and await expected.inner_text() == "fetched 41"
            assert await found.is_visible() and await found.inner_text() == "40"
            skipped = page.locator("section[data-scenario='wrong'] tr.not-run")
            assert await skipped.count() == 1 and "skipped" in await skipped.inner_text()
            assert await page.locator("section[data-scenario='wrong'] pre.reproduce").inner_text() == (
                "orderportal scenarios run --file wrong.yaml"
            )
            steps = page.locator("section[data-scenario='couples'] details.steps")  # a passing scenario's, folded
            assert not await steps.evaluate("element => element.open")
            assert not await steps.locator("tr[data-step='1']").is_visible()
            await steps.locator("summary").click()
            assert (
                await steps.evaluate("element => element.open")
                and await steps.locator("tr[data-step='1']").is_visible()
            )
            await steps.locator("summary").click()
            assert not await steps.evaluate("element => element.open")
            shot = tmp_path / "scenarios-failing.png"
            await page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            assert fetched == [page_path.as_uri()]  # self-contained: the page fetched nothing else
        finally:
            await browser.close()
