"""A real browser opens the HTML reports: the verdict, the summary, the marked pointer, and what folds.

Chromium comes from the OS packages (`.ci/run` installs Debian's `chromium`) and is launched by its
path; no browser is downloaded. Without one the tests skip and say why, unless
ORDERPORTAL_REQUIRE_BROWSER=1 (as in .ci/run) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from scenarios.certify.registry import REGISTRY
from scenarios.certify.reports import write_all
from tests.integration.test_certify import FAST, run

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a test extra: make test installs it")


def chromium() -> str:
    """The browser's path: ORDERPORTAL_CHROMIUM, or Chromium from the OS packages."""
    found = os.environ.get("ORDERPORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("ORDERPORTAL_REQUIRE_BROWSER") == "1":
        pytest.fail("no Chromium found, and ORDERPORTAL_REQUIRE_BROWSER=1: install Debian's chromium package")
    pytest.skip("no Chromium found: install the OS package chromium (apt-get install chromium) to run browser tests")


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
