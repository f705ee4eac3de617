"""Adoption by the catch-up poll: only a supplier order that provably came from this stock order's send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portal.adapters.supplier_client import SupplierClient
from portal.bootstrap import PortalServer
from portal.service_layer.supplier_errors import SupplierUnreachable
from supplier_sim import orders
from tests.conftest import empty_portal_database, make_shop, portal_server
from tests.helpers import held_orders


def _without_key(order: dict[str, Any]) -> dict[str, Any]:
    """The order as a supplier shows it that does not echo the Idempotency-Key."""
    return {key: value for key, value in order.items() if key != "idempotencyKey"}


LIFECYCLE = {"lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"}, "dispatch": {"delay": "1m"}}


async def test_a_second_portal_database_never_adopts_the_first_ones_order_of_the_same_number(
    start_sim, start_portal, session, tmp_path: Path
) -> None:
    """Same master data before and after a database reset; the new first order is sent during an outage."""
    sim = await start_sim(LIFECYCLE)
    first = await make_shop(sim, await start_portal(webhooks=False), session)
    await first.open()
    product = next(p for p in await first.products() if p["active"])["productNumber"]
    old = await first.order([(product, 1)])
    await first.api.ok("POST", f"/api/stock-orders/{old['id']}/send")
    await first.advance("2h")
    await first.portal.sync()
    assert (await first.api.ok("GET", f"/api/stock-orders/{old['id']}"))["orderportal"]["status"] == "ACCEPTED"
    await first.portal.stop()

    (tmp_path / "reset").mkdir()
    second: PortalServer = portal_server(await empty_portal_database(tmp_path / "reset"), webhooks=False)
    await second.start()
    try:
        shop = await make_shop(sim, second, session)
        await shop.open()
        new = await shop.order([(product, 1)])
        assert new["number"] == old["number"]
        await shop.admin.set_faults([{"kind": "error", "status": 503, "path": "/orders", "method": "POST"}])
        assert (await shop.api.call("POST", f"/api/stock-orders/{new['id']}/send")).status == 202
        caught = (await second.sync())["catchUp"]
        assert caught["adopted"] == 0 and caught["unknown"] == 1
        assert (await shop.api.ok("GET", f"/api/stock-orders/{new['id']}"))["state"] == "BOOKED"

        await shop.admin.set_faults([])
        assert (await shop.api.ok("POST", "/api/outbox/deliver"))["sent"] == 1
        now = await shop.api.ok("GET", f"/api/stock-orders/{new['id']}")
        held, total = await held_orders(shop.admin)
        assert total == 2 and now["orderportal"]["supplierOrderId"] == held[1]["orderId"]
        assert now["orderportal"]["status"] == "NEW" and held[0]["status"] == "ACCEPTED"
    finally:
        await second.stop()


async def test_a_supplier_that_does_not_echo_the_key_gets_the_order_again_with_the_same_key_and_holds_one(
    shop, monkeypatch
) -> None:
    """No echoed key is no proof: the catch-up adopts nothing, and the resend is safe by idempotency."""
    real_document, real_create = orders.document, SupplierClient.create_order
    monkeypatch.setattr(orders, "document", lambda row: _without_key(real_document(row)))
    keys = []

    async def lost(self: SupplierClient, body: dict, key: str) -> dict:
        keys.append(key)
        await real_create(self, body, key)
        raise SupplierUnreachable("POST /orders", "no answer within 10 s")

    await shop.open()
    product = next(p for p in await shop.products() if p["active"])["productNumber"]
    order = await shop.order([(product, 1)])
    with monkeypatch.context() as patch:
        patch.setattr(SupplierClient, "create_order", lost)
        assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
    caught = (await shop.portal.sync())["catchUp"]
    assert caught["adopted"] == 0 and caught["unknown"] == 1
    assert (await shop.api.ok("POST", "/api/outbox/deliver"))["sent"] == 1
    (held,) = await shop.admin.orders("10001")
    now = await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")
    assert now["orderportal"]["supplierOrderId"] == held.order["orderId"] and held.idempotency_key == keys[0]
