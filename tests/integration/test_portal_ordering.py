"""Rules 2 to 6: open the Orderportal, match, update products, cart by containers, create, edit, book, send."""

from __future__ import annotations

from portal.adapters.supplier_client import SupplierClient
from portal.domain.model import StockOrder
from portal.service_layer.supplier_errors import SupplierUnreachable
from tests.conftest import Shop, make_shop
from tests.helpers import held_orders, portal_api


async def active(shop: Shop, count: int) -> list[dict]:
    return [p for p in await shop.products() if p["active"]][:count]


async def test_opening_imports_every_page_then_only_the_delta(shop: Shop) -> None:
    first = await shop.open()
    assert (first["fetched"], first["total"], first["delta"]) == (60, 60, False)
    assert len(await shop.products()) == 60
    await shop.advance("1h")
    number = (await shop.products())[4]["productNumber"]
    await shop.sim.admin(
        shop.api.session, "POST", "catalog/changes", json={"kind": "price", "productNumber": number, "amount": "7.77"}
    )
    second = await shop.open()
    # updatedSince is inclusive: the newest product of the last import comes again, with the change
    assert (second["fetched"], second["total"], second["delta"]) == (2, 60, True)
    imports = (
        await shop.sim.admin(shop.api.session, "GET", "journal", params={"path": "/api/v1/customers/10001/products"})
    )["items"]
    assert "updatedSince" not in imports[0]["query"] and "updatedSince=" in imports[-1]["query"]
    changed = next(p for p in await shop.products() if p["productNumber"] == number)
    assert changed["purchasePrice"]["amount"] == "7.77"


async def test_each_supplier_product_shows_its_match_and_what_differs(shop: Shop) -> None:
    await shop.open()
    picks = await active(shop, 4)
    await shop.order([(p["productNumber"], 1) for p in picks])
    session = shop.api.session
    await shop.advance("1h")
    changes = [
        {"kind": "price", "productNumber": picks[0]["productNumber"], "amount": "99.99"},
        {"kind": "rename", "productNumber": picks[1]["productNumber"], "name": "Renamed Water 1 l"},
        {"kind": "barcode", "productNumber": picks[2]["productNumber"]},
        {"kind": "withdraw", "productNumber": picks[3]["productNumber"]},
    ]
    for change in changes:
        await shop.sim.admin(session, "POST", "catalog/changes", json=change)
    await shop.open()
    listed = {p["productNumber"]: p for p in await shop.products()}
    assert [listed[p["productNumber"]]["differences"] for p in picks] == [
        ["price"],
        ["name"],
        ["barcodes"],
        ["withdrawn"],
    ]
    assert all(listed[p["productNumber"]]["match"]["by"] == "supplier item" for p in picks)
    unmatched = next(p for p in listed.values() if p["match"] is None)
    assert unmatched["differences"] in ([], ["withdrawn"])


async def test_a_second_supplier_with_the_same_products_matches_them_by_barcode(shop: Shop, start_portal) -> None:
    await shop.open()
    picks = await active(shop, 2)
    await shop.order([(p["productNumber"], 1) for p in picks])
    api = shop.api
    other = await api.ok(
        "POST", "/api/suppliers", {"name": "Twin", "orderInterface": "ORDERPORTAL", "baseUrl": shop.sim.url}
    )
    body = {"supplierId": other["id"], "orgUnitId": shop.unit["id"], "number": "10003", "authMethod": "api-key"}
    customer = await api.ok(
        "POST", "/api/customer-numbers", {**body, "apiKey": (await shop.admin.credentials("10003")).api_key}
    )
    await api.ok("POST", f"/api/customer-numbers/{customer['id']}/couple")
    await api.ok("POST", "/api/orderportal/open", {"supplierId": other["id"], "warehouseId": shop.house["id"]})
    listed = {
        p["productNumber"]: p for p in (await api.ok("GET", f"/api/suppliers/{other['id']}/products?size=100"))["items"]
    }
    for pick in picks:
        found = listed[pick["productNumber"]]
        assert found["match"]["by"] == "barcode" and "price" in found["differences"]


async def test_ordering_is_by_container_and_the_supplier_gets_containers_times_amount(shop: Shop) -> None:
    await shop.open()
    product = (await active(shop, 1))[0]
    order = await shop.order([(product["productNumber"], 7)])
    line = order["lines"][0]
    assert (line["containers"], line["containerAmount"], line["quantity"]) == (
        7,
        product["containerAmount"],
        7 * product["containerAmount"],
    )
    sent = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    held, _ = await held_orders(shop.admin)
    at_supplier = next(o for o in held if o["orderId"] == sent["orderportal"]["supplierOrderId"])
    assert at_supplier["lines"][0]["quantity"] == 7 * product["containerAmount"]


async def test_update_products_reports_its_counts_and_is_idempotent(shop: Shop) -> None:
    await shop.open()
    picks = await active(shop, 3)
    for p in picks:
        await shop.api.ok("PUT", f"{shop.cart}/lines/{p['productNumber']}", {"containers": 1})
    assert await shop.api.ok("POST", f"{shop.cart}/update-products") == {"created": 3, "updated": 0, "unchanged": 0}
    assert await shop.api.ok("POST", f"{shop.cart}/update-products") == {"created": 0, "updated": 0, "unchanged": 3}
    await shop.advance("1h")
    await shop.sim.admin(
        shop.api.session,
        "POST",
        "catalog/changes",
        json={"kind": "price", "productNumber": picks[0]["productNumber"], "amount": "1.11"},
    )
    await shop.open()
    assert await shop.api.ok("POST", f"{shop.cart}/update-products") == {"created": 0, "updated": 1, "unchanged": 2}
    assert await shop.api.ok("POST", f"{shop.cart}/update-products") == {"created": 0, "updated": 0, "unchanged": 3}


async def test_create_stock_orders_merges_into_the_unbooked_order_of_the_same_supplier_and_warehouse(
    shop: Shop,
) -> None:
    await shop.open()
    a, b = await active(shop, 2)
    first = await shop.api.ok("PUT", f"{shop.cart}/lines/{a['productNumber']}", {"containers": 2})
    await shop.api.ok("POST", f"{shop.cart}/update-products")
    order = await shop.api.ok("POST", f"{shop.cart}/create-stock-orders")
    assert first["lines"] and (await shop.api.ok("GET", shop.cart))["lines"] == []
    await shop.api.ok("PUT", f"{shop.cart}/lines/{a['productNumber']}", {"containers": 3})
    await shop.api.ok("PUT", f"{shop.cart}/lines/{b['productNumber']}", {"containers": 1})
    await shop.api.ok("POST", f"{shop.cart}/update-products")
    merged = await shop.api.ok("POST", f"{shop.cart}/create-stock-orders")
    assert merged["id"] == order["id"]
    assert [(x["supplierProductNumber"], x["containers"]) for x in merged["lines"]] == [
        (a["productNumber"], 5),
        (b["productNumber"], 1),
    ]
    await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/book")
    await shop.api.ok("PUT", f"{shop.cart}/lines/{a['productNumber']}", {"containers": 1})
    fresh = await shop.api.ok("POST", f"{shop.cart}/create-stock-orders")
    assert fresh["id"] != order["id"] and fresh["state"] == "UNBOOKED"


async def test_an_order_is_edited_while_unbooked_then_booked_then_sent_and_never_edited_after(shop: Shop) -> None:
    await shop.open()
    a, b = await active(shop, 2)
    for p in (a, b):
        await shop.api.ok("PUT", f"{shop.cart}/lines/{p['productNumber']}", {"containers": 2})
    await shop.api.ok("POST", f"{shop.cart}/update-products")
    order = await shop.api.ok("POST", f"{shop.cart}/create-stock-orders")
    path = f"/api/stock-orders/{order['id']}"
    unsent = await shop.api.call("POST", f"{path}/send")
    assert unsent.status == 409 and "only a booked order is sent" in unsent.body["detail"]
    edited = await shop.api.ok("PATCH", path, {"lines": [{"lineNumber": 1, "containers": 4}], "note": "ramp 2"})
    assert edited["lines"][0]["containers"] == 4 and edited["note"] == "ramp 2"
    await shop.api.ok("DELETE", f"{path}/lines/2")
    await shop.api.ok("POST", f"{path}/book")
    for attempt in (shop.api.call("PATCH", path, {"note": "late"}), shop.api.call("DELETE", f"{path}/lines/1")):
        answer = await attempt
        assert answer.status == 409 and "only an unbooked order can be edited" in answer.body["detail"]
    sent = await shop.api.ok("POST", f"{path}/send")
    assert sent["state"] == "SENT" and sent["note"] == "ramp 2" and len(sent["lines"]) == 1
    again = await shop.api.ok("POST", f"{path}/send")  # a click whose answer was lost: the same sent order
    assert again["orderportal"]["supplierOrderId"] == sent["orderportal"]["supplierOrderId"]
    assert (await held_orders(shop.admin, "10001"))[1] == 1


async def test_sending_needs_an_orderportal_supplier_and_a_coupled_customer_number(shop: Shop) -> None:
    await shop.open()
    order = await shop.order([((await active(shop, 1))[0]["productNumber"], 1)])
    path = f"/api/stock-orders/{order['id']}"
    await shop.api.ok("PATCH", f"/api/suppliers/{shop.supplier['id']}", {"orderInterface": "PRECASTED"})
    precasted = await shop.api.call("POST", f"{path}/send")
    assert precasted.status == 409 and "PRECASTED" in precasted.body["detail"]
    await shop.api.ok("PATCH", f"/api/suppliers/{shop.supplier['id']}", {"orderInterface": "ORDERPORTAL"})
    await shop.admin.change_password("10001", "rotated-0123456789")  # the supplier stops accepting these credentials
    assert (await shop.api.call("POST", f"/api/customer-numbers/{shop.customer['id']}/couple")).status == 422
    uncoupled = await shop.api.call("POST", f"{path}/send")
    assert uncoupled.status == 409 and "no coupled customer number" in uncoupled.body["detail"]
    assert (await shop.api.ok("GET", path))["state"] == "BOOKED"
    assert (await held_orders(shop.admin, "10001"))[1] == 0


async def test_a_resend_after_a_lost_answer_creates_no_second_order_at_the_supplier(shop: Shop, monkeypatch) -> None:
    await shop.open()
    order = await shop.order([((await active(shop, 1))[0]["productNumber"], 2)])
    path = f"/api/stock-orders/{order['id']}/send"
    real = SupplierClient.create_order

    async def answer_lost(self: SupplierClient, body: dict, key: str) -> dict:
        await real(self, body, key)  # the supplier stores the order ...
        raise SupplierUnreachable("POST /orders", "timed out after 10 s")  # ... and the answer never arrives

    monkeypatch.setattr(SupplierClient, "create_order", answer_lost)
    lost = await shop.api.call("POST", path)
    assert lost.status == 202 and lost.body["state"] == "BOOKED"
    assert lost.body["outbox"]["attempts"] == 1 and "timed out" in lost.body["outbox"]["lastError"]
    queued = (await shop.api.ok("GET", "/api/outbox"))["items"]
    assert [q["stockOrderId"] for q in queued] == [order["id"]]
    monkeypatch.setattr(SupplierClient, "create_order", real)
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 1, "waiting": 0, "refused": 0, "blocked": 0}
    sent = await shop.api.ok("GET", f"/api/stock-orders/{order['id']}")
    assert sent["state"] == "SENT" and sent["outbox"] is None
    assert (await shop.api.ok("GET", "/api/outbox"))["items"] == []
    orders, total = await held_orders(shop.admin, "10001")
    assert total == 1 and orders[0]["orderId"] == sent["orderportal"]["supplierOrderId"]


async def test_a_crash_between_the_suppliers_answer_and_the_commit_is_resent_by_the_restarted_portal(
    shop: Shop, start_portal, monkeypatch
) -> None:
    await shop.open()
    order = await shop.order([((await active(shop, 1))[0]["productNumber"], 2)])

    def crash(*args: object) -> None:
        raise RuntimeError("the process died here")  # after the supplier's answer, before the commit

    monkeypatch.setattr(StockOrder, "sent", crash)
    died = await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")
    assert died.status == 500
    assert (await held_orders(shop.admin, "10001"))[1] == 1
    monkeypatch.undo()
    restarted = await start_portal()  # the same database
    assert (await restarted.sync())["outbox"] == {"sent": 1, "waiting": 0, "refused": 0, "blocked": 0}
    sent = await portal_api(restarted.url, shop.api.session).ok("GET", f"/api/stock-orders/{order['id']}")
    orders, total = await held_orders(shop.admin, "10001")
    assert sent["state"] == "SENT" and total == 1 and orders[0]["orderId"] == sent["orderportal"]["supplierOrderId"]


async def test_cart_bad_input_is_refused_and_changes_nothing(shop: Shop) -> None:
    await shop.open()
    product = (await active(shop, 1))[0]["productNumber"]
    for containers in (0, -2):
        answer = await shop.api.call("PUT", f"{shop.cart}/lines/{product}", {"containers": containers})
        assert answer.status == 422 and answer.body["errors"][0]["pointer"] == "/containers"
    assert (await shop.api.call("PUT", f"{shop.cart}/lines/NOPE", {"containers": 1})).status == 404
    assert (await shop.api.ok("GET", shop.cart))["lines"] == []
    empty = await shop.api.call("POST", f"{shop.cart}/create-stock-orders")
    assert empty.status == 409 and "cart is empty" in empty.body["detail"]
    assert (await shop.api.call("POST", f"{shop.cart}/update-products")).status == 409
    await shop.api.ok("PUT", f"{shop.cart}/lines/{product}", {"containers": 1})
    not_yet = await shop.api.call("POST", f"{shop.cart}/create-stock-orders")
    assert not_yet.status == 409 and "run Update Products first" in not_yet.body["detail"]
    assert (await shop.api.ok("GET", shop.cart))["lines"] == [{"productNumber": product, "containers": 1}]


async def test_a_withdrawn_product_cannot_go_into_the_cart(shop: Shop) -> None:
    await shop.open()
    withdrawn = (
        next(p for p in await shop.products() if not p["active"])
        if any(not p["active"] for p in await shop.products())
        else None
    )
    if withdrawn is None:
        number = (await active(shop, 1))[0]["productNumber"]
        await shop.sim.admin(
            shop.api.session, "POST", "catalog/changes", json={"kind": "withdraw", "productNumber": number}
        )
        await shop.open()
        withdrawn = {"productNumber": number}
    answer = await shop.api.call("PUT", f"{shop.cart}/lines/{withdrawn['productNumber']}", {"containers": 1})
    assert answer.status == 409 and "withdrawn" in answer.body["detail"]


async def test_two_org_units_order_with_their_own_customer_numbers(start_sim, start_portal, session) -> None:
    sim = await start_sim()
    portal = await start_portal()
    north = await make_shop(sim, portal, session, "10001")
    east = await make_shop(sim, portal, session, "10003")
    for shop in (north, east):
        await shop.open()
        order = await shop.order([((await active(shop, 1))[0]["productNumber"], 1)])
        await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    assert (await held_orders(north.admin, "10001"))[1] == 1
    assert (await held_orders(east.admin, "10003"))[1] == 1


async def test_an_order_waiting_in_the_outbox_for_an_uncoupled_number_blocks_nothing_else(
    shop: Shop, monkeypatch
) -> None:
    await shop.open()
    products = await active(shop, 2)
    first = await shop.order([(products[0]["productNumber"], 1)])
    second = await shop.order([(products[1]["productNumber"], 1)])

    async def unreachable(self: SupplierClient, body: dict, key: str) -> dict:
        raise SupplierUnreachable("POST /orders", "no answer")

    monkeypatch.setattr(SupplierClient, "create_order", unreachable)
    for order in (first, second):
        assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
    monkeypatch.undo()
    login = {"authMethod": "basic", "username": "north-market", "password": "north-demo-pass-1"}
    await shop.api.ok("PATCH", f"/api/customer-numbers/{shop.customer['id']}", login)  # uncoupled until coupled again
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 0, "waiting": 0, "refused": 0, "blocked": 2}
    assert len((await shop.api.ok("GET", "/api/outbox"))["items"]) == 2  # kept for when it is coupled again
    await shop.api.ok("POST", f"/api/customer-numbers/{shop.customer['id']}/couple")
    assert await shop.api.ok("POST", "/api/outbox/deliver") == {"sent": 2, "waiting": 0, "refused": 0, "blocked": 0}
    assert (await held_orders(shop.admin, "10001"))[1] == 2
