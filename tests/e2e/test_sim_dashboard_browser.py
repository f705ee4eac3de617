"""A real browser follows the simulator's dashboard: an order appears and moves live, its timeline shows
each webhook attempt, a bad fault rule is refused beside its field, and a hostile name stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import chromium, screenshots
from tests.helpers import client_for, order_body

playwright = pytest.importorskip("playwright.async_api", reason="playwright is a test extra: make test installs it")

HOSTILE = "<script>alert('pwned')</script>"
FAST = {
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1m"},
    "webhooks": {"maxAttempts": 4, "backoff": "10s"},
}


async def test_the_simulator_dashboard_follows_an_order_live_in_a_browser(
    start_sim, session, receiver_factory, tmp_path: Path
) -> None:
    executable = chromium()
    shots = screenshots(tmp_path)
    server = await start_sim(FAST)
    receiver = await receiver_factory(failures=1)  # the first event's first attempt fails: it is tried twice
    north = await client_for(server, session, "10001")
    await north.call("PUT", "/webhook", json={"url": receiver.url, "secret": "whsec-browser-secret-0001"})
    products = [p for p in (await north.call("GET", "/products", params={"size": "5"})).body["items"] if p["active"]]
    rename = {"kind": "rename", "productNumber": products[0]["productNumber"], "name": HOSTILE}
    await server.admin(session, "POST", "catalog/changes", json=rename)
    expect = playwright.expect
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await page.goto(f"{server.url}/_sim/ui")
            await expect(page.locator("#live")).to_have_attribute("data-state", "on")
            await page.evaluate("window.notReloaded = true")

            order = (await north.create_order(order_body(products[:2], "SO-LIVE"))).body
            row = page.locator(f"#orders tr[data-order='{order['orderId']}']")
            await expect(row.locator("[data-field=status]")).to_have_text("NEW")
            await page.get_by_role("button", name="+10m").click()
            await expect(row.locator("[data-field=status]")).to_have_text("PROCESSED")
            await page.get_by_role("button", name="+1h").click()
            await expect(row.locator("[data-field=status]")).to_have_text("ACCEPTED")
            assert await page.evaluate("window.notReloaded === true")  # every change came live
            await page.screenshot(path=str(shots / "sim-dashboard-orders.png"))

            await row.get_by_role("link", name=order["orderId"]).click()
            first = page.locator("#timeline li[data-kind=webhook]").first
            attempts = first.locator("table.attempts tbody tr")
            await expect(attempts).to_have_count(2)
            await expect(attempts.nth(0)).to_contain_text("503")
            await expect(attempts.nth(1)).to_contain_text("204")
            await expect(attempts.nth(1)).to_contain_text("signed")
            await expect(page.locator("#timeline li[data-kind=dispatch]")).to_have_count(1)
            await expect(page.locator("#lines td.product-name").first).to_have_text(HOSTILE)
            await page.screenshot(path=str(shots / "sim-dashboard-timeline.png"), full_page=True)

            await page.goto(f"{server.url}/_sim/ui/faults")
            await page.locator("#fault-rules").fill('[{"kind": "explode"}]')
            await page.get_by_role("button", name="Replace the rules").click()
            error = page.locator("#fault-editor textarea + .field-error")
            await expect(error.first).to_contain_text("/0/kind")
            await expect(page.locator("#fault-rules")).to_have_attribute("aria-invalid", "true")
            await page.screenshot(path=str(shots / "sim-dashboard-faults.png"))
            assert await server.admin(session, "GET", "faults") == []
            assert dialogs == []  # no script ran from a name
        finally:
            await browser.close()


async def test_a_browser_is_sent_to_sign_in_refused_a_wrong_token_and_let_in_with_the_right_one(start_sim) -> None:
    executable = chromium()
    token = "admin-token-for-the-browser-0001"
    server = await start_sim(admin_token=token)
    expect = playwright.expect
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(f"{server.url}/_sim/ui/journal")
            await expect(page).to_have_url(f"{server.url}/_sim/ui/login")
            await page.locator("#token").fill("not-the-token")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.locator("#sign-in-error")).to_have_text("This is not the simulator's admin token.")
            assert await page.context.cookies() == []
            await page.locator("#token").fill(token)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page).to_have_url(f"{server.url}/_sim/ui")
            await expect(page.locator("#live")).to_have_attribute("data-state", "on")
        finally:
            await browser.close()
