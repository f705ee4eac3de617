"""PortalState: the one read helper shows what the portal holds and its HTTP API does not."""

from __future__ import annotations

from tests.conftest import Shop


async def test_the_read_helper_shows_the_webhook_secret_and_the_key_an_order_is_sent_with(shop: Shop) -> None:
    state = shop.portal.state()
    assert await state.webhook_secret(shop.customer["id"])
    assert await state.webhook_secret(10**6) is None
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    order = await shop.order([(product, 2)])
    key = await state.idempotency_key(order["id"])
    assert key and key not in str(await shop.api.stock_order(order["id"]))
