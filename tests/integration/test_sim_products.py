"""The product list: paging, delta sync, search and the contract of every product."""

from __future__ import annotations

from contracts.gtin import is_valid_gtin
from tests.helpers import SimClient, client_for


async def all_pages(client: SimClient, size: int, **params: str) -> tuple[list[dict], list[dict]]:
    pages, items, page = [], [], 1
    while True:
        answer = await client.call("GET", "/products", params={"page": str(page), "size": str(size), **params})
        assert answer.status == 200
        pages.append(answer.body)
        items += answer.body["items"]
        if page >= answer.body["totalPages"]:
            return pages, items
        page += 1


async def test_the_pages_cover_every_product_exactly_once_in_product_number_order(north: SimClient) -> None:
    pages, items = await all_pages(north, size=7)
    numbers = [p["productNumber"] for p in items]
    assert len(numbers) == len(set(numbers)) == pages[0]["totalItems"] == 60
    assert numbers == sorted(numbers)
    assert pages[0]["totalPages"] == 9 and all(len(p["items"]) == 7 for p in pages[:-1])


async def test_every_barcode_carries_a_correct_gtin_check_digit(north: SimClient) -> None:
    _, items = await all_pages(north, size=1000)
    codes = [code for p in items for code in p["barcodes"]]
    assert codes and all(is_valid_gtin(code) for code in codes)
    assert len(codes) == len(set(codes))
    assert any(len(p["barcodes"]) == 2 for p in items)


async def test_a_page_past_the_end_is_empty_but_keeps_the_totals(north: SimClient) -> None:
    answer = await north.call("GET", "/products", params={"page": "99", "size": "10"})
    assert answer.status == 200
    assert answer.body["items"] == [] and answer.body["totalItems"] == 60 and answer.body["currentPage"] == 99


async def test_a_page_size_over_1000_or_a_page_below_1_is_rejected_naming_the_parameter(north: SimClient) -> None:
    too_big = await north.call("GET", "/products", params={"size": "1001"})
    assert too_big.status == 422 and too_big.pointers == ["/query/size"]
    zero = await north.call("GET", "/products", params={"page": "0", "size": "abc"})
    assert zero.status == 422 and sorted(zero.pointers) == ["/query/page", "/query/size"]


async def test_updated_since_returns_only_what_changed_at_or_after_it(north: SimClient) -> None:
    _, before = await all_pages(north, size=1000)
    target = before[5]["productNumber"]
    clock = await north.advance("1h")
    await north.server.admin(
        north.session, "POST", "catalog/changes", json={"kind": "price", "productNumber": target, "amount": "9.99"}
    )
    await north.server.admin(
        north.session, "POST", "catalog/changes", json={"kind": "withdraw", "productNumber": before[9]["productNumber"]}
    )
    _, delta = await all_pages(north, size=100, updatedSince=clock["now"])
    assert {p["productNumber"] for p in delta} == {target, before[9]["productNumber"]}
    changed = {p["productNumber"]: p for p in delta}
    assert changed[target]["purchasePrice"]["amount"] == "9.99"
    assert changed[target]["updatedAt"] == clock["now"]  # inclusive: changed exactly at updatedSince
    assert changed[before[9]["productNumber"]]["active"] is False  # withdrawn, still listed


async def test_scheduled_catalog_changes_happen_on_the_virtual_clock(start_sim, session) -> None:

    server = await start_sim(
        {
            "catalog": {
                "size": 30,
                "changes": [{"at": "2h", "kind": "withdraw", "count": 2}, {"at": "3h", "kind": "barcode"}],
            }
        }
    )
    client = await client_for(server, session, "10001")
    start = (await server.admin(session, "GET", "clock"))["now"]
    await client.advance("150m")
    first = await client.call("GET", "/products", params={"updatedSince": start})
    assert first.body["totalItems"] == 2 and all(not p["active"] for p in first.body["items"])
    await client.advance("1h")
    second = await client.call("GET", "/products", params={"updatedSince": start})
    assert second.body["totalItems"] == 3


async def test_q_finds_products_by_name_number_or_barcode(north: SimClient) -> None:
    _, items = await all_pages(north, size=1000)
    product = items[3]
    for text in (product["productNumber"], product["barcodes"][0], product["name"].split()[0].upper()):
        found = await north.call("GET", "/products", params={"q": text})
        assert product["productNumber"] in [p["productNumber"] for p in found.body["items"]], text


async def test_a_bad_updated_since_is_rejected_naming_it(north: SimClient) -> None:
    answer = await north.call("GET", "/products", params={"updatedSince": "yesterday"})
    assert answer.status == 422 and answer.pointers == ["/query/updatedSince"]


async def test_a_catalog_of_100000_products_is_served_to_its_last_page(start_sim, session) -> None:
    client = await client_for(await start_sim({"catalog": {"size": 100_000, "changes": []}}), session, "10001")
    last = await client.call("GET", "/products", params={"page": "100", "size": "1000"})
    assert last.status == 200 and last.body["totalItems"] == 100_000 and last.body["totalPages"] == 100
    assert len(last.body["items"]) == 1000
    found = await client.call("GET", "/products", params={"q": last.body["items"][-1]["productNumber"]})
    assert found.body["items"][0] == last.body["items"][-1]
