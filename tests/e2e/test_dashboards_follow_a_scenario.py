"""Both dashboards open in one browser while the bundled happy-path scenario runs against their apps.

The scenario's steps run one by one, as `scenarios run` runs them, but its `advance` step is taken from the
simulator's dashboard: its clock buttons move time, and the order moves on both pages without a reload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scenarios.drivers import PortalClient, SimAdmin
from scenarios.runner import bundled
from scenarios.stage import Stage
from scenarios.steps import ACTIONS
from tests.e2e.browser import chromium, screenshots

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a test extra: make test installs it")


async def take(stage: Stage, steps: list[dict[str, Any]]) -> None:
    for step in steps:
        ((action, args),) = step.items()
        await ACTIONS[action](stage, args)


async def test_both_dashboards_follow_the_happy_path_live(start_sim, start_portal, session, tmp_path: Path) -> None:
    executable = chromium()
    (scenario,) = [s for s in bundled() if s.name == "happy-path"]
    steps = scenario.steps
    advance = steps.index({"advance": "20m"})  # the step the simulator's dashboard takes instead
    sim = await start_sim({"catalog": {"size": 40, "changes": []}, **scenario.profile}, seed=scenario.seed)
    portal = await start_portal()
    stage = Stage(PortalClient(session, portal.url), SimAdmin.of(sim, session), portal.state(), [])
    await take(stage, steps[:advance])  # coupled, carted, created, edited, booked and sent: NEW at the supplier
    order_id = stage.orders["first"]
    expect = playwright.expect
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            retailer, supplier = await context.new_page(), await context.new_page()
            await retailer.goto(f"{portal.url}/ui")
            await supplier.goto(f"{sim.url}/_sim/ui")
            for page in (retailer, supplier):
                await expect(page.locator("#live")).to_have_attribute("data-state", "on")
                await page.evaluate("window.stayed = true")  # gone if the page reloads
            ours = retailer.locator(f"tr[data-key='order-{order_id}'] [aria-current='step']")
            theirs = supplier.locator("#orders tbody tr [data-field=status]")
            await expect(ours).to_have_text("NEW")
            await expect(theirs).to_have_text("NEW")

            await supplier.get_by_role("button", name="+10m").click()  # past processing: PROCESSED, told by webhook
            await expect(theirs).to_have_text("PROCESSED")
            await expect(ours).to_have_text("PROCESSED")
            await supplier.get_by_role("button", name="+10m").click()  # past acceptance
            await expect(theirs).to_have_text("ACCEPTED")
            await expect(ours).to_have_text("ACCEPTED")
            for page in (retailer, supplier):
                assert await page.evaluate("window.stayed === true"), f"{page.url} reloaded"

            await take(stage, steps[advance + 1 :])  # the rest as written: accepted, dispatched, received, in stock
            await retailer.goto(f"{portal.url}/ui/orders/{order_id}")
            await expect(retailer.locator("#history li")).to_have_count(3)
            await expect(retailer.locator("#dispatches tbody tr")).to_have_count(1)
            shots = screenshots(tmp_path)
            await retailer.screenshot(path=str(shots / "dashboards-scenario-portal.png"), full_page=True)
            await supplier.screenshot(path=str(shots / "dashboards-scenario-sim.png"), full_page=True)
        finally:
            await browser.close()
