"""Rule 1, coupling, and the bad input of setting up; the portal runs against a real simulator."""

from __future__ import annotations

import logging

import pytest

from scenarios.drivers import PortalClient, SimAdmin
from tests.conftest import Shop, make_shop
from tests.helpers import portal_api


async def test_coupling_with_each_auth_method_makes_the_customer_number_coupled(
    start_sim, start_portal, session
) -> None:
    sim = await start_sim()
    for number in ("10001", "10002", "10003"):
        shop = await make_shop(sim, await start_portal(), session, number)
        login = await shop.admin.credentials(number)
        assert shop.customer["state"] == "COUPLED" and shop.customer["authMethod"] == login.auth


async def setup_supplier(api: PortalClient, base_url: str) -> tuple[dict, dict]:
    unit = await api.ok("POST", "/api/org-units", {"code": "S1", "name": "Store 1"})
    supplier = await api.ok(
        "POST", "/api/suppliers", {"name": "Sim", "orderInterface": "ORDERPORTAL", "baseUrl": base_url}
    )
    return unit, supplier


@pytest.mark.parametrize(
    ("number", "login", "pointer", "status", "cause"),
    [
        ("10001", {"username": "north-market", "password": "wrong-password-1"}, "/password", 422, "wrong credentials"),
        (
            "99999",
            {"username": "north-market", "password": "north-demo-pass-1"},
            "/number",
            422,
            "unknown customer number",
        ),
        ("10001", {"username": "north-market", "password": "north-demo-pass-1"}, None, 502, "unreachable supplier"),
    ],
    ids=["wrong credentials", "unknown customer number", "unreachable supplier"],
)
async def test_a_failed_coupling_names_its_cause_and_leaves_the_number_uncoupled_without_leaking(
    start_sim, start_portal, session, caplog, number: str, login: dict, pointer: str | None, status: int, cause: str
) -> None:
    sim = await start_sim()
    api = portal_api((await start_portal()).url, session)
    unit, supplier = await setup_supplier(api, "http://127.0.0.1:1" if status == 502 else sim.url)
    body = {"supplierId": supplier["id"], "orgUnitId": unit["id"], "number": number, "authMethod": "basic", **login}
    customer = await api.ok("POST", "/api/customer-numbers", body)
    caplog.set_level(logging.DEBUG)
    answer = await api.call("POST", f"/api/customer-numbers/{customer['id']}/couple")
    assert answer.status == status and cause in answer.body["detail"]
    assert [e["pointer"] for e in answer.body.get("errors", [])] == ([pointer] if pointer else [])
    stored = await api.ok("GET", f"/api/customer-numbers/{customer['id']}")
    assert stored["state"] == "UNCOUPLED" and cause in stored["lastError"]
    for text in (str(answer.body), str(stored), caplog.text):
        assert login["password"] not in text


async def test_a_precasted_supplier_cannot_be_coupled_or_opened(start_sim, start_portal, session) -> None:
    sim = await start_sim()
    api = portal_api((await start_portal()).url, session)
    unit = await api.ok("POST", "/api/org-units", {"code": "S1", "name": "Store 1"})
    house = await api.ok("POST", "/api/warehouses", {"code": "W1", "name": "W", "orgUnitId": unit["id"]})
    supplier = await api.ok(
        "POST", "/api/suppliers", {"name": "Old", "orderInterface": "PRECASTED", "baseUrl": sim.url}
    )
    body = {"supplierId": supplier["id"], "orgUnitId": unit["id"], "number": "10001", "authMethod": "basic"}
    customer = await api.ok(
        "POST", "/api/customer-numbers", {**body, "username": "north-market", "password": "north-demo-pass-1"}
    )
    refused = await api.call("POST", f"/api/customer-numbers/{customer['id']}/couple")
    assert refused.status == 409 and "PRECASTED" in refused.body["detail"]
    opened = await api.call("POST", "/api/orderportal/open", {"supplierId": supplier["id"], "warehouseId": house["id"]})
    assert opened.status == 409 and "PRECASTED" in opened.body["detail"]


async def test_customer_numbers_never_show_their_credentials(shop: Shop) -> None:
    shown = await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}")
    assert "north-demo-pass-1" not in str(shown) and "password" not in shown


@pytest.mark.parametrize(
    ("path", "body", "pointers"),
    [
        ("/api/org-units", {"code": "", "name": 5}, ["/code", "/name"]),
        ("/api/warehouses", {"code": "W", "name": "W", "orgUnitId": "one"}, ["/orgUnitId"]),
        ("/api/suppliers", {"name": "S", "orderInterface": "FAX"}, ["/orderInterface"]),
        (
            "/api/customer-numbers",
            {"supplierId": 1, "orgUnitId": 1, "number": "1", "authMethod": "basic", "pin": 1},
            ["/password", "/pin", "/username"],  # basic needs a username and a password
        ),
    ],
)
async def test_a_malformed_setup_body_gets_422_naming_each_field(
    start_portal, session, path: str, body: dict, pointers: list
) -> None:
    api = portal_api((await start_portal()).url, session)
    answer = await api.call("POST", path, body)
    assert answer.status == 422 and sorted({e["pointer"] for e in answer.body["errors"]}) == pointers


async def test_broken_json_and_unknown_ids_are_problems(start_portal, session) -> None:
    api = portal_api((await start_portal()).url, session)
    broken = await api.call("POST", "/api/org-units", data=b"{", headers={"Content-Type": "application/json"})
    assert broken.status == 400
    assert (await api.call("POST", "/api/warehouses", {"code": "W", "name": "W", "orgUnitId": 42})).status == 404
    assert (await api.call("GET", "/api/stock-orders/7")).status == 404
    assert (await api.call("GET", "/api/stock-orders/seven")).status == 404
    duplicate = {"code": "S1", "name": "Store 1"}
    await api.ok("POST", "/api/org-units", duplicate)
    assert (await api.call("POST", "/api/org-units", duplicate)).status == 409


async def test_corrected_credentials_couple_after_a_refusal(start_sim, start_portal, session) -> None:
    sim = await start_sim()
    api = portal_api((await start_portal()).url, session)
    unit, supplier = await setup_supplier(api, sim.url)
    body = {"supplierId": supplier["id"], "orgUnitId": unit["id"], "number": "10001", "authMethod": "basic"}
    customer = await api.ok("POST", "/api/customer-numbers", {**body, "username": "north-market", "password": "typo"})
    assert (await api.call("POST", f"/api/customer-numbers/{customer['id']}/couple")).status == 422
    fixed = {"authMethod": "basic", "username": "north-market", "password": "north-demo-pass-1"}
    changed = await api.ok("PATCH", f"/api/customer-numbers/{customer['id']}", fixed)
    assert changed["state"] == "UNCOUPLED" and "north-demo-pass-1" not in str(changed)
    assert (await api.ok("POST", f"/api/customer-numbers/{customer['id']}/couple"))["state"] == "COUPLED"
    half = await api.call("PATCH", f"/api/customer-numbers/{customer['id']}", {"authMethod": "api-key"})
    assert half.status == 422 and half.body["errors"][0]["pointer"] == "/apiKey"
    assert (await api.ok("GET", f"/api/customer-numbers/{customer['id']}"))["state"] == "COUPLED"


@pytest.mark.parametrize("path", ["/api/v1", "/api/v1/", "/shop/api/v1"])
async def test_a_base_url_that_ends_in_the_api_root_is_refused_with_what_the_root_url_looks_like(
    start_sim, start_portal, session, path: str
) -> None:
    sim, portal = await start_sim(), await start_portal()
    body = {"name": "Sim", "orderInterface": "ORDERPORTAL", "baseUrl": sim.url + path}
    answer = await portal_api(portal.url, session).call("POST", "/api/suppliers", body)
    assert answer.status == 422 and answer.pointers == ["/baseUrl"]
    assert "http://host:port" in answer.detail and "appends /api/v1" in answer.detail
    assert sim.url not in answer.raw.decode()


@pytest.mark.parametrize("base_url", ["127.0.0.1:8080", "http://user:pw@127.0.0.1:8080", "http://127.0.0.1:8080/?x=1"])
async def test_a_base_url_of_no_allowed_form_is_refused_in_words_not_with_the_pattern(
    start_portal, session, base_url: str
) -> None:
    portal = await start_portal()
    body = {"name": "Sim", "orderInterface": "ORDERPORTAL", "baseUrl": base_url}
    answer = await portal_api(portal.url, session).call("POST", "/api/suppliers", body)
    assert answer.status == 422 and answer.pointers == ["/baseUrl"]
    (message,) = [e["message"] for e in answer.body["errors"]]
    assert message.startswith("must be an http or https URL of the server root") and "no user, password" in message
    assert "[Hh]" not in answer.raw.decode() and base_url not in answer.raw.decode()


async def test_a_supplier_without_its_api_at_the_base_url_fails_coupling_saying_what_the_root_url_looks_like(
    start_sim, start_portal, session
) -> None:
    sim, api = await start_sim(), portal_api((await start_portal()).url, session)
    unit, supplier = await setup_supplier(api, sim.url + "/shop")
    login = await SimAdmin.of(sim, session).credentials("10001")
    customer = await api.register_customer_number(supplier["id"], unit["id"], login)
    answer = await api.call("POST", f"/api/customer-numbers/{customer['id']}/couple")
    assert answer.status == 502 and answer.pointers == ["/baseUrl"]
    assert "404" in answer.detail and "http://host:port" in answer.detail and "appends /api/v1" in answer.detail
    assert sim.url not in answer.raw.decode() and "/shop" not in answer.raw.decode()
