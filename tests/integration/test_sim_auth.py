"""Authentication by basic, token and API key; tenant isolation on every endpoint."""

from __future__ import annotations

import aiohttp
import pytest

from contracts.wire import basic_authorization
from supplier_sim import SimServer
from tests.helpers import SimClient, client_for, order_body

CUSTOMER_ENDPOINTS = [
    ("GET", "/products"),
    ("GET", "/orders"),
    ("POST", "/orders"),
    ("GET", "/orders/ORD00000001"),
    ("GET", "/orders/ORD00000001/dispatch-notifications"),
    ("PUT", "/webhook"),
    ("GET", "/webhook"),
    ("DELETE", "/webhook"),
]


async def test_each_auth_method_reaches_its_own_customer(north: SimClient, south: SimClient, east: SimClient) -> None:
    assert (await south.login()).status == 200
    for client in (north, south, east):
        assert (await client.call("GET", "/products")).status == 200


async def test_wrong_or_missing_credentials_get_401_with_a_challenge(north: SimClient, east: SimClient) -> None:
    missing = await north.call("GET", "/products", auth=False)
    assert missing.status == 401 and "WWW-Authenticate" in missing.headers
    wrong = await north.call(
        "GET", "/products", auth=False, headers={"Authorization": basic_authorization("north-market", "nope")}
    )
    assert wrong.status == 401 and "wrong username or password" in wrong.body["detail"]
    bad_key = await east.call("GET", "/products", auth=False, headers={"X-Api-Key": "not-a-key-at-all-0000"})
    assert bad_key.status == 401


async def test_a_wrong_password_gets_no_token(south: SimClient) -> None:
    answer = await south.call(
        "POST", "/api/v1/auth", absolute=True, auth=False, json={"username": "south-market", "password": "guess"}
    )
    assert answer.status == 401 and south.token is None


async def test_a_basic_customer_cannot_get_a_token(north: SimClient) -> None:
    answer = await north.login()
    assert answer.status == 401


async def test_a_garbage_token_gets_401(south: SimClient) -> None:
    south.token = "garbage-token-that-was-never-issued"
    answer = await south.call("GET", "/products")
    assert answer.status == 401 and "not known" in answer.body["detail"]


async def test_a_token_expires_on_the_virtual_clock_after_its_lifetime(south: SimClient) -> None:
    login = await south.login()
    assert login.status == 200
    await south.advance("9h")
    assert (await south.call("GET", "/products")).status == 200
    await south.advance("1h")
    expired = await south.call("GET", "/products")
    assert expired.status == 401 and "expired" in expired.body["detail"]
    await south.login()
    assert (await south.call("GET", "/products")).status == 200


@pytest.mark.parametrize(("method", "path"), CUSTOMER_ENDPOINTS)
async def test_a_credential_on_another_customers_path_gets_403_and_no_data(
    sim: SimServer, session: aiohttp.ClientSession, method: str, path: str
) -> None:
    north, south = client_for(sim, session, "10001"), client_for(sim, session, "10002")
    await south.login()
    products = (await north.call("GET", "/products", params={"size": "2"})).body["items"]
    await south.create_order(order_body(products))  # ORD00000001 belongs to 10002
    await south.call("PUT", "/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s" * 20})
    kwargs: dict = {}
    if method == "POST":
        kwargs = {"json": order_body(products), "headers": {"Idempotency-Key": "k-403"}}
    elif method == "PUT":
        kwargs = {"json": {"url": "http://127.0.0.1:9/evil", "secret": "e" * 20}}
    answer = await north.call(method, f"/api/v1/customers/10002{path}", absolute=True, **kwargs)
    assert answer.status == 403
    assert "ORD" not in str(answer.body) and "hook" not in str(answer.body)
    assert (await south.call("GET", "/orders")).body["totalItems"] == 1
    assert (await south.call("GET", "/webhook")).body["url"] == "http://127.0.0.1:9/hook"


async def test_an_unknown_customer_number_is_forbidden_not_revealed(north: SimClient) -> None:
    answer = await north.call("GET", "/api/v1/customers/99999/products", absolute=True)
    assert answer.status == 403 and "99999" in answer.body["detail"]
