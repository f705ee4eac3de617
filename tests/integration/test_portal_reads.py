"""A person can walk the portal's API: everything it creates can be listed and read back, filtered and paged."""

from __future__ import annotations

import pytest

from tests.conftest import Shop


async def walked(shop: Shop) -> dict:
    """One order sent, accepted, dispatched, received and booked; another left booked."""
    await shop.open()
    numbers = [p["productNumber"] for p in await shop.products() if p["active"]]
    sent = await shop.order([(numbers[0], 2)])
    await shop.api.send(sent["id"])
    await shop.order([(numbers[1], 1)])
    await shop.advance("1h")
    (note,) = await shop.api.dispatch_notifications(sent["id"])
    receipt = await shop.api.receive(note["id"])
    await shop.api.book_receipt(receipt["id"])
    return {"sent": sent, "note": note, "receipt": receipt}


async def test_everything_the_portal_creates_can_be_listed_and_read_back(shop: Shop) -> None:
    made = await walked(shop)
    api = shop.api
    assert [u["id"] for u in (await api.ok("GET", "/api/org-units"))["items"]] == [shop.unit["id"]]
    assert await api.ok("GET", f"/api/org-units/{shop.unit['id']}") == shop.unit
    assert (await api.ok("GET", f"/api/warehouses?orgUnitId={shop.unit['id']}"))["items"] == [shop.house]
    assert await api.ok("GET", f"/api/warehouses/{shop.house['id']}") == shop.house
    assert [s["id"] for s in (await api.ok("GET", "/api/suppliers"))["items"]] == [shop.supplier["id"]]
    assert (await api.ok("GET", f"/api/suppliers/{shop.supplier['id']}"))["baseUrl"] == shop.sim.url
    (customer,) = (await api.ok("GET", "/api/customer-numbers?state=COUPLED"))["items"]
    assert customer["id"] == shop.customer["id"] and "password" not in customer
    (cart,) = (await api.ok("GET", f"/api/carts?supplierId={shop.supplier['id']}"))["items"]
    assert cart["warehouseId"] == shop.house["id"]
    note = await api.ok("GET", f"/api/dispatch-notifications/{made['note']['id']}")
    assert note["stockOrderId"] == made["sent"]["id"]
    listed = await api.ok("GET", f"/api/dispatch-notifications?stockOrderId={made['sent']['id']}")
    assert [n["id"] for n in listed["items"]] == [note["id"]] and listed["total"] == 1
    receipt = await api.ok("GET", f"/api/stock-receipts/{made['receipt']['id']}")
    assert receipt["state"] == "BOOKED"
    assert (await api.ok("GET", f"/api/stock-receipts?warehouseId={shop.house['id']}"))["items"] == [receipt]
    assert (await api.ok("GET", "/api/contract-violations"))["items"] == []


async def test_stock_orders_filter_by_state_status_and_supplier_and_come_in_pages(shop: Shop) -> None:
    made = await walked(shop)
    api = shop.api
    everything = await api.ok("GET", "/api/stock-orders")
    assert everything["total"] == 2 and (everything["page"], everything["size"]) == (1, 100)
    (sent,) = (await api.ok("GET", "/api/stock-orders?state=SENT"))["items"]
    assert sent["id"] == made["sent"]["id"] and sent["orderportal"]["status"] == "ACCEPTED"
    assert (await api.ok("GET", "/api/stock-orders?status=ACCEPTED"))["total"] == 1
    assert (await api.ok("GET", "/api/stock-orders?state=BOOKED"))["total"] == 1
    assert (await api.ok("GET", f"/api/stock-orders?supplierId={shop.supplier['id'] + 1}"))["items"] == []
    second = await api.ok("GET", "/api/stock-orders?page=2&size=1")
    assert [o["id"] for o in second["items"]] == [everything["items"][1]["id"]] and second["total"] == 2


async def test_stock_levels_carry_the_product_number_and_name(shop: Shop) -> None:
    made = await walked(shop)
    (level,) = await shop.api.stock_levels(shop.house["id"])
    line = made["sent"]["lines"][0]
    assert level["productId"] == line["productId"] and level["quantity"] == line["quantity"]
    assert level["productNumber"].endswith(line["supplierProductNumber"]) and level["productName"]


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ("/api/stock-orders?state=LOST<b>", "/query/state"),
        ("/api/stock-orders?status=new", "/query/status"),
        ("/api/stock-orders?supplierId=-7", "/query/supplierId"),
        ("/api/stock-orders?size=5000", "/query/size"),
        ("/api/stock-orders?page=-3", "/query/page"),
        ("/api/dispatch-notifications?size=", "/query/size"),
        ("/api/stock-orders?page=", "/query/page"),
        ("/api/customer-numbers?state=HALF", "/query/state"),
        ("/api/dispatch-notifications?stockOrderId=x9x", "/query/stockOrderId"),
        ("/api/stock-receipts?warehouseId=2147483648", "/query/warehouseId"),
        ("/api/warehouses?orgUnitId=", "/query/orgUnitId"),
    ],
)
async def test_a_bad_query_parameter_is_a_422_naming_it_and_never_its_value(
    shop: Shop, path: str, pointer: str
) -> None:
    answer = await shop.api.call("GET", path)
    assert answer.status == 422 and answer.content_type == "application/problem+json"
    assert answer.pointers == [pointer]
    value = path.rsplit("=", 1)[1]
    assert not value or value not in answer.raw.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/org-units/999",
        "/api/warehouses/999",
        "/api/suppliers/999",
        "/api/stock-receipts/999",
        "/api/dispatch-notifications/999",
        "/api/stock-orders/abc",
    ],
)
async def test_an_unknown_id_is_a_404_problem(shop: Shop, path: str) -> None:
    answer = await shop.api.call("GET", path)
    assert answer.status == 404 and answer.content_type == "application/problem+json"


async def test_the_largest_id_is_a_valid_filter(shop: Shop) -> None:
    assert (await shop.api.ok("GET", "/api/stock-orders?supplierId=2147483647"))["items"] == []


async def test_the_portal_answers_its_health_check(shop: Shop) -> None:
    answer = await shop.api.call("GET", "/healthz")
    assert (answer.status, answer.body) == (200, {"status": "ok"})
