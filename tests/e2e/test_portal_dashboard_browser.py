"""The portal's dashboard in a real browser: an order moves live while the simulator's clock runs, no reload.

Screenshots go to tmp_path, or to docs/ with ORDERPORTAL_SCREENSHOTS=docs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Shop
from tests.e2e.browser import chromium, screenshots
from tests.integration.test_portal_dashboard import HOSTILE, hostile_order

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a test extra: make test installs it")


async def test_an_order_moves_live_on_the_dashboard_and_its_page_shows_history_and_outbox(
    shop: Shop, tmp_path: Path
) -> None:
    executable = chromium()
    order = await hostile_order(shop)
    other = [p for p in await shop.products() if p["active"]][1]
    waiting = await shop.order([(other["productNumber"], 1)])
    expect = playwright.expect
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            dialogs: list[str] = []

            async def confirm(dialog: playwright.Dialog) -> None:
                dialogs.append(dialog.message)
                await dialog.accept()

            page.on("dialog", confirm)
            await page.goto(f"{shop.portal.url}/ui")
            await expect(page.locator("#live")).to_have_text("live")
            await page.evaluate("window.stayed = true")  # gone if the page reloads
            row = page.locator(f"tr[data-key='order-{order['id']}']")
            await expect(row.locator(".badge")).to_have_text("BOOKED")

            await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
            await expect(row.locator("[aria-current='step']")).to_have_text("NEW")
            await shop.advance("6m")  # the simulator processes it and tells the portal by webhook
            await expect(row.locator("[aria-current='step']")).to_have_text("PROCESSED")
            assert await page.evaluate("window.stayed === true"), "the page reloaded"
            await page.screenshot(path=str(screenshots(tmp_path) / "portal-dashboard-orders.png"), full_page=True)

            await row.locator("a").click()
            await expect(page.locator("#history li")).to_have_count(2)
            await expect(page.locator("#lines td").filter(has_text=HOSTILE)).to_have_count(1)  # text, not a script
            await page.evaluate("window.stayed = true")
            await shop.advance("20m")  # accepted and dispatched: the page follows
            await expect(page.locator("#history li")).to_have_count(3)
            await expect(page.locator("#dispatches tbody tr")).to_have_count(1)
            assert await page.evaluate("window.stayed === true"), "the page reloaded"
            await page.screenshot(path=str(screenshots(tmp_path) / "portal-dashboard-order.png"), full_page=True)

            rule = {"kind": "truncate", "method": "POST", "path": "/orders"}
            await shop.sim.admin(shop.api.session, "PUT", "faults", json=[rule])
            assert (await shop.api.call("POST", f"/api/stock-orders/{waiting['id']}/send")).status == 202
            await page.goto(f"{shop.portal.url}/ui/orders/{waiting['id']}")
            await expect(page.locator("#outbox .attempts")).to_have_text("1")
            await expect(page.locator("#outbox .last-error")).not_to_be_empty()
            await page.locator("#outbox button[data-action]").click()
            await expect(page.locator("#outbox")).to_contain_text("Not in the outbox")
            assert dialogs == [f"Take stock order {waiting['number']} out of the outbox? It stays booked, unsent."]
            assert (await shop.api.ok("GET", "/api/outbox"))["items"] == []
        finally:
            await browser.close()
