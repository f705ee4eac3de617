"""Authentication by basic, token and API key (tenant isolation per endpoint: test_sim_tenancy.py)."""

from __future__ import annotations

from contracts.wire import basic_authorization
from tests.helpers import SimClient


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


async def test_an_unknown_customer_number_is_forbidden_not_revealed(north: SimClient) -> None:
    answer = await north.call("GET", "/api/v1/customers/99999/products", absolute=True)
    # The rule, not the number asked for: a path is the caller's input, and never quoted back.
    assert answer.status == 403 and "do not grant access" in answer.detail and "99999" not in answer.raw.decode()
