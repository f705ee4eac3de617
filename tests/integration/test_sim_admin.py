"""The admin API and the simulator's own guard rails: profiles, catalog files, strict mode."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from contracts.wire import basic_authorization
from supplier_sim import SimConfig, SimServer
from supplier_sim.catalog import CatalogError
from supplier_sim.profile import load_profile, parse_profile
from tests.helpers import client_for

PRODUCTS = [
    {
        "productNumber": "A-1",
        "name": "Still Water 1 l",
        "barcodes": ["4006381333931"],
        "containerAmount": 6,
        "purchasePrice": {"amount": "0.39", "currency": "EUR"},
        "taxRate": "7.00",
    },
    {
        "productNumber": "A-2",
        "name": "Cola 0.33 l",
        "barcodes": ["96385074", "036000291452"],
        "containerAmount": 24,
        "purchasePrice": {"amount": "0.52", "currency": "EUR"},
        "taxRate": "19.00",
        "active": False,
    },
]


async def test_a_new_profile_loaded_through_the_admin_api_replaces_customers_and_catalog(
    sim: SimServer, session
) -> None:
    profile = "customers: [{number: '777', auth: api-key, apiKey: fresh-key-0123456789}]\ncatalog: {size: 5}\n"
    async with session.put(f"{sim.url}/_sim/profile?seed=9", data=profile) as response:
        assert response.status == 200
    client = await client_for(sim, session, "777")
    assert sim.sim.seed == 9
    assert (await client.call("GET", "/products")).body["totalItems"] == 5
    old = {"Authorization": basic_authorization("north-market", "north-demo-pass-1")}
    async with session.get(f"{sim.url}/api/v1/customers/10001/products", headers=old) as response:
        assert response.status == 401


async def test_a_bad_profile_is_refused_naming_the_field_and_the_old_one_stays(sim: SimServer, session) -> None:
    async with session.put(f"{sim.url}/_sim/profile", data="catalog: {size: many}\n") as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and [e["pointer"] for e in body["errors"]] == ["/catalog/size"]
    async with session.put(f"{sim.url}/_sim/profile", data="catalog: [unclosed\n") as response:
        assert response.status == 400
    north = await client_for(sim, session, "10001")
    assert (await north.call("GET", "/products")).body["totalItems"] == 60


async def test_without_admin_the_admin_api_does_not_exist(start_sim, session) -> None:
    server = await start_sim(admin=False)
    async with session.get(f"{server.url}/_sim/clock") as response:
        assert response.status == 404 and response.content_type == "application/problem+json"


async def test_an_admin_token_is_required_when_set(start_sim, session) -> None:
    server = await start_sim(admin_token="let-me-in")
    async with session.get(f"{server.url}/_sim/clock") as response:
        assert response.status == 401
    async with session.get(f"{server.url}/_sim/clock", headers={"X-Admin-Token": "let-me-in"}) as response:
        assert response.status == 200


async def test_a_real_clock_cannot_be_advanced(start_sim, session) -> None:
    server = await start_sim(clock="real")
    async with session.post(f"{server.url}/_sim/clock/advance", json={"by": "1h"}) as response:
        assert response.status == 409 and "--clock virtual" in (await response.json(content_type=None))["detail"]


async def test_a_catalog_change_with_a_bad_barcode_names_it(sim: SimServer, session) -> None:
    number = sim.sim.catalog.numbers()[0]
    change = {"kind": "barcode", "productNumber": number, "barcode": "4006381333932"}
    async with session.post(f"{sim.url}/_sim/catalog/changes", json=change) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and body["errors"][0]["pointer"] == "/barcode"
    async with session.post(
        f"{sim.url}/_sim/catalog/changes", json={"kind": "price", "productNumber": "NOPE"}
    ) as response:
        assert response.status == 404


@pytest.mark.parametrize("kind", ["json", "csv"])
async def test_a_catalog_file_in_json_or_csv_is_served_as_is(tmp_path: Path, session, kind: str) -> None:
    path = tmp_path / f"catalog.{kind}"
    if kind == "json":
        path.write_text(json.dumps(PRODUCTS))
    else:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["productNumber", "name", "barcodes", "containerAmount", "purchasePrice", "taxRate", "active"]
            )
            for p in PRODUCTS:
                writer.writerow(
                    [
                        p["productNumber"],
                        p["name"],
                        ";".join(p["barcodes"]),
                        p["containerAmount"],
                        p["purchasePrice"]["amount"],
                        p["taxRate"],
                        str(p.get("active", True)).lower(),
                    ]
                )
    profile_path = tmp_path / "profile.yaml"
    profile_path.write_text(f"catalog: {{file: {path.name}}}\n")
    server = SimServer(SimConfig(profile=load_profile(profile_path), strict=True))
    await server.start()
    try:
        items = (await (await client_for(server, session, "10001")).call("GET", "/products")).body["items"]
    finally:
        await server.stop()
    server.check()
    assert [(p["productNumber"], p["barcodes"], p["active"]) for p in items] == [
        ("A-1", ["4006381333931"], True),
        ("A-2", ["96385074", "036000291452"], False),
    ]


async def test_a_catalog_file_with_a_wrong_check_digit_is_refused_naming_the_product(tmp_path: Path) -> None:
    bad = [{**PRODUCTS[0], "barcodes": ["4006381333932"]}]
    (tmp_path / "catalog.json").write_text(json.dumps(bad))
    profile = parse_profile({"catalog": {"file": "catalog.json"}}, base=tmp_path)
    server = SimServer(SimConfig(profile=profile))
    with pytest.raises(CatalogError, match=r"product 1: /barcodes/0 has a wrong GTIN check digit"):
        await server.start()
    await server.stop()


@pytest.mark.parametrize(
    ("field", "value"),
    [("containerAmount", 3_000_000_000), ("updatedAt", "2026-01-05T08:00:00." + "1" * 60 + "Z")],
)
async def test_a_catalog_file_with_a_value_past_the_contracts_bounds_is_refused_naming_it(
    tmp_path: Path, field: str, value: object
) -> None:
    (tmp_path / "catalog.json").write_text(json.dumps([{**PRODUCTS[0], field: value}]))
    profile = parse_profile({"catalog": {"file": "catalog.json"}}, base=tmp_path)
    server = SimServer(SimConfig(profile=profile))
    with pytest.raises(CatalogError, match=f"product 1: .*/{field}"):
        await server.start()
    await server.stop()


async def test_strict_mode_reports_an_answer_that_breaks_its_contract(sim: SimServer, session, monkeypatch) -> None:
    monkeypatch.setattr(sim.sim.catalog, "page", lambda *args: b'{"currentPage": "one", "items": []}')
    north = await client_for(sim, session, "10001")
    await north.call("GET", "/products")
    with pytest.raises(AssertionError, match="/currentPage"):
        sim.check()


async def test_the_token_endpoint_names_a_missing_field_and_refuses_broken_json(south) -> None:
    missing = await south.call("POST", "/api/v1/auth", absolute=True, auth=False, json={"username": "south-market"})
    assert missing.status == 422 and missing.pointers == ["/password"]
    broken = await south.call(
        "POST", "/api/v1/auth", absolute=True, auth=False, data=b"{", headers={"Content-Type": "application/json"}
    )
    assert broken.status == 400


async def test_advances_sent_together_each_move_the_clock_by_their_span(sim: SimServer, session) -> None:
    from contracts.wire import parse_timestamp

    start = parse_timestamp((await sim.admin(session, "GET", "clock"))["now"])
    await asyncio.gather(*(sim.admin(session, "POST", "clock/advance", json={"by": "1h"}) for _ in range(4)))
    assert parse_timestamp((await sim.admin(session, "GET", "clock"))["now"]) - start == 4 * 3_600_000
