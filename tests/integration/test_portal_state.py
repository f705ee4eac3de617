"""PortalState: the one read helper shows what the portal holds and its HTTP API does not."""

from __future__ import annotations

from tests.conftest import Shop


async def test_the_read_helper_shows_the_webhook_secret_dispatches_and_receipts_of_an_order(shop: Shop) -> None:
    state = shop.portal.state()
    assert await state.webhook_secret(shop.customer["id"])
    assert await state.webhook_secret(10**6) is None
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    order = await shop.order([(product, 2)])
    await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    assert await state.dispatch_notification_ids(order["id"]) == ()
    await shop.advance("1h")
    notes = (await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/dispatch-notifications"))["items"]
    assert await state.dispatch_notification_ids(order["id"]) == tuple(sorted(n["notificationId"] for n in notes))
    receipt = await shop.api.ok("POST", f"/api/dispatch-notifications/{notes[0]['id']}/receipt", {})
    await shop.api.ok("POST", f"/api/stock-receipts/{receipt['id']}/book")
    held = await state.receipts(order["id"])
    assert [(r["id"], r["state"], r["lines"]) for r in held] == [(receipt["id"], "BOOKED", receipt["lines"])]
