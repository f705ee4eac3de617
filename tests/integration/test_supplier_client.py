"""The portal's supplier client against real simulators, and against fake suppliers that break the contract."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from contracts.wire import basic_authorization
from portal.adapters import supplier_client
from portal.adapters.supplier_client import SupplierClient
from portal.domain.messages import CatalogProduct, OrderRequest, RequestLine
from portal.domain.setup import Credentials
from portal.service_layer.retry import RetryPolicy
from portal.service_layer.supplier_errors import (
    ContractBroken,
    CustomerNumberRefused,
    SupplierRejected,
    SupplierUnreachable,
    WrongCredentials,
)
from supplier_sim import SimServer
from supplier_sim.typedefs import ERRORS

StartSim = Callable[..., Awaitable[SimServer]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StartFake = Callable[[Handler], Awaitable[str]]
PROBLEM_JSON = "application/problem+json"
NO_SESSION: Any = None  # for what never touches the network
BASIC = Credentials("basic", "north-market", "north-demo-pass-1")
QUICK = RetryPolicy(base_s=0.001, cap_s=0.01)
ONCE = RetryPolicy(attempts=1)
SECRETS = [
    "north-demo-pass-1",
    "south-demo-pass-2",
    "east-demo-key-3f9a27c1d8e4",
    "not-the-password",
    basic_authorization("north-market", "north-demo-pass-1").removeprefix("Basic "),
]


def order_request(products: list[CatalogProduct], number: str = "SO-1", containers: int = 2) -> OrderRequest:
    """A well-formed order for these catalog products."""
    lines = tuple(
        RequestLine(i, p.product_number, containers, p.container_amount, containers * p.container_amount)
        for i, p in enumerate(products, start=1)
    )
    return OrderRequest(number, "store-1", "W1", "Main warehouse", lines)


def wire_product(p: CatalogProduct) -> dict[str, Any]:
    """A catalog product as Supplier API v1 sends one, its required fields only."""
    return {
        "productNumber": p.product_number,
        "name": p.name,
        "barcodes": list(p.barcodes),
        "containerAmount": p.container_amount,
        "purchasePrice": {"amount": str(p.purchase_price), "currency": p.currency},
        "taxRate": p.tax_rate,
        "active": p.active,
        "updatedAt": p.updated_at,
    }


def credentials_of(server: SimServer, number: str) -> Credentials:
    customer = server.sim.profile.customer(number)
    assert customer is not None
    return Credentials(customer.auth, customer.username, customer.password, customer.api_key)


def client_of(server: SimServer, session: aiohttp.ClientSession, number: str = "10001", **kw: Any) -> SupplierClient:
    """The portal's client for one customer of the simulator, with that customer's own credentials."""
    return SupplierClient(session, server.url, number, credentials_of(server, number), **kw)


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        assert not any(secret in text for secret in SECRETS), text


def product(number: str) -> dict[str, Any]:
    return {
        "productNumber": number,
        "name": f"Product {number}",
        "barcodes": [],
        "containerAmount": 6,
        "purchasePrice": {"amount": "1.00", "currency": "EUR"},
        "taxRate": "7.00",
        "active": True,
        "updatedAt": "2026-01-05T08:00:00.000Z",
    }


def product_page(page: int, total: int, numbers: list[str], size: int = 1) -> web.Response:
    body = {
        "currentPage": page,
        "pageSize": size,
        "totalPages": -(-total // size),
        "totalItems": total,
        "items": [product(n) for n in numbers],
    }
    return web.json_response(body)


def problem(status: int, detail: str) -> web.Response:
    body = {"type": "about:blank", "title": "Error", "status": status, "detail": detail}
    return web.json_response(body, status=status, content_type=PROBLEM_JSON)


@pytest.fixture
async def start_fake() -> AsyncIterator[StartFake]:
    """Start fake suppliers on loopback that answer every request with ``handler``."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize("number", ["10001", "10002", "10003"])
async def test_check_access_succeeds_with_each_auth_method(
    start_sim: StartSim, session: aiohttp.ClientSession, number: str
) -> None:
    server = await start_sim()
    await client_of(server, session, number).check_access()


@pytest.mark.parametrize(
    "credentials",
    [
        Credentials("basic", "north-market", "not-the-password"),
        Credentials("token", "south-market", "not-the-password"),
        Credentials("api-key", api_key="not-the-password"),
    ],
    ids=["basic", "token", "api-key"],
)
async def test_wrong_credentials_are_named_as_such_without_showing_the_secret(
    start_sim: StartSim, session: aiohttp.ClientSession, credentials: Credentials
) -> None:
    server = await start_sim()
    client = SupplierClient(session, server.url, "10001", credentials)
    with pytest.raises(WrongCredentials) as caught:
        await client.check_access()
    assert caught.value.status == 401
    assert caught.value.endpoint in str(caught.value)
    assert_no_secret_in(str(caught.value), repr(caught.value), repr(client), repr(credentials))


async def test_check_access_logs_in_afresh_with_the_token_method(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session, "10002")
    await client.products()
    await client.check_access()
    logins = await server.admin(session, "GET", "journal", params={"path": "/api/v1/auth"})
    assert len(logins["items"]) == 2


async def test_an_unknown_customer_number_is_refused_without_showing_the_secret(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = SupplierClient(session, server.url, "99999", credentials_of(server, "10001"))
    with pytest.raises(CustomerNumberRefused) as caught:
        await client.check_access()
    assert caught.value.status == 403 and "GET /products" in str(caught.value) and "99999" in str(caught.value)
    assert_no_secret_in(str(caught.value), repr(caught.value), repr(client))


async def test_another_customers_number_is_refused(start_sim: StartSim, session: aiohttp.ClientSession) -> None:
    server = await start_sim()
    with pytest.raises(CustomerNumberRefused):
        await SupplierClient(session, server.url, "10002", credentials_of(server, "10001")).check_access()


async def test_an_unreachable_supplier_is_named_by_endpoint_host_and_port(session: aiohttp.ClientSession) -> None:
    client = SupplierClient(session, "http://127.0.0.1:1", "10001", BASIC, retry=QUICK)
    with pytest.raises(SupplierUnreachable) as caught:
        await client.products()
    assert "GET /products" in str(caught.value) and "127.0.0.1:1" in str(caught.value)
    assert_no_secret_in(str(caught.value), repr(caught.value), repr(client))


@pytest.fixture
async def silent_supplier(start_fake: StartFake) -> AsyncIterator[str]:
    """A supplier that takes every request and never answers, until the test ends."""
    released = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(status=204)

    yield await start_fake(hang)
    released.set()


async def test_a_supplier_that_never_answers_is_unreachable_after_the_timeout(
    silent_supplier: str, session: aiohttp.ClientSession
) -> None:
    never = r"GET /orders/X: no answer from 127\.0\.0\.1:\d+ within 0\.05 s, after 4 attempt"
    with pytest.raises(SupplierUnreachable, match=never):
        async with asyncio.timeout(5):  # a client without a timeout fails here instead of hanging
            client = SupplierClient(session, silent_supplier, "10001", BASIC, timeout_s=0.05, retry=QUICK)
            await client.order("X")


async def test_products_come_from_every_page_in_order_and_once(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    products = await client_of(server, session, page_size=7).products()
    numbers = [p.product_number for p in products]
    assert len(numbers) == 60 and numbers == server.sim.catalog.numbers()
    pages = await server.admin(session, "GET", "journal", params={"path": "/api/v1/customers/10001/products"})
    assert len(pages["items"]) == 9


async def test_products_updated_since_returns_only_the_changed_ones(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session, "10003")
    target = (await client.products())[5].product_number
    clock = await server.admin(session, "POST", "clock/advance", json={"by": "1h"})
    change = {"kind": "price", "productNumber": target, "amount": "9.99"}
    await server.admin(session, "POST", "catalog/changes", json=change)
    changed = await client.products(updated_since=clock["now"])
    assert [(p.product_number, str(p.purchase_price)) for p in changed] == [(target, "9.99")]


async def test_a_replayed_order_is_the_same_order_and_another_body_under_its_key_is_a_409(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session, "10002")
    products = (await client.products())[:2]
    first = await client.create_order(order_request(products), "stock-order-1")
    again = await client.create_order(order_request(products), "stock-order-1")
    assert first.status == "NEW" and again.order_id == first.order_id
    with pytest.raises(SupplierRejected) as caught:
        await client.create_order(order_request(products, containers=3), "stock-order-1")
    assert caught.value.status == 409 and caught.value.problem["status"] == 409
    assert "POST /orders" in str(caught.value)


async def test_an_order_is_tracked_from_new_to_accepted_and_its_dispatch_notification_fetched(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session)
    order = await client.create_order(order_request((await client.products())[:3]), "stock-order-2")
    assert [o.order_id for o in await client.orders(statuses=["NEW"])] == [order.order_id]
    assert await client.dispatch_notifications(order.order_id) == []
    await server.admin(session, "POST", "clock/advance", json={"by": "2h"})
    assert (await client.order(order.order_id)).status == "ACCEPTED"
    assert await client.orders(statuses=["NEW", "PROCESSED"]) == []
    assert [o.order_id for o in await client.orders(statuses=["ACCEPTED"])] == [order.order_id]
    (notification,) = await client.dispatch_notifications(order.order_id)
    assert notification.order_id == order.order_id and len(notification.lines) == 3


async def test_an_unknown_order_is_rejected_with_the_suppliers_problem(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    with pytest.raises(SupplierRejected) as caught:
        await client_of(server, session).order("ORD/../99")
    assert caught.value.status == 404 and caught.value.problem["status"] == 404
    assert "GET /orders/ORD%2F..%2F99" in str(caught.value)


async def test_an_expired_token_is_renewed_with_one_login_and_the_call_succeeds(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session, "10002")
    assert len(await client.products()) == 60
    assert len(await client.products()) == 60
    await server.admin(session, "POST", "clock/advance", json={"by": "11h"})
    assert len(await client.products()) == 60
    logins = await server.admin(session, "GET", "journal", params={"path": "/api/v1/auth"})
    assert [item["status"] for item in logins["items"]] == [200, 200]
    refused = await server.admin(session, "GET", "journal", params={"status": "401"})
    assert len(refused["items"]) == 1


async def test_a_token_is_renewed_before_it_expires_when_the_suppliers_clock_tells_its_lifetime(
    start_sim: StartSim, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_sim(clock="real")  # expiresAt and the Date header come from one clock
    client = client_of(server, session, "10002")
    assert len(await client.products()) == 60
    later = time.monotonic() + 9.5 * 3600  # past nine tenths of the ten-hour lifetime
    monkeypatch.setattr(supplier_client, "monotonic", lambda: later)
    assert len(await client.products()) == 60
    logins = await server.admin(session, "GET", "journal", params={"path": "/api/v1/auth"})
    assert [item["status"] for item in logins["items"]] == [200, 200]
    refused = await server.admin(session, "GET", "journal", params={"status": "401"})
    assert refused["items"] == []  # renewed in time: no call was refused


async def test_a_token_refused_again_after_a_fresh_login_is_wrong_credentials(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    logins = 0

    async def refuse_every_token(request: web.Request) -> web.Response:
        nonlocal logins
        if request.path == "/api/v1/auth":
            logins += 1
            return web.json_response({"token": f"token-number-{logins:08d}", "expiresAt": "2026-01-05T18:00:00.000Z"})
        return problem(401, "the bearer token is not known")

    url = await start_fake(refuse_every_token)
    client = SupplierClient(session, url, "10002", Credentials("token", "south-market", "not-the-password"))
    with pytest.raises(WrongCredentials, match="GET /products: "):
        await client.products()
    assert logins == 2


async def test_a_broken_product_page_is_contract_broken_naming_the_endpoint_and_the_field(
    start_sim: StartSim, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await start_sim()
    monkeypatch.setattr(server.sim.catalog, "page", lambda *a: b'{"currentPage":"x","items":[]}')
    with pytest.raises(ContractBroken) as caught:
        await client_of(server, session).products()
    message = str(caught.value)
    assert "GET /products" in message and "/currentPage" in message and "/totalItems" in message
    assert {"/currentPage", "/pageSize", "/totalItems", "/totalPages"} <= {v.pointer for v in caught.value.violations}
    server.app[ERRORS].clear()  # strict mode caught the simulator breaking its contract: on purpose here


async def test_totals_that_change_between_pages_break_the_contract(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def growing(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        return product_page(page, total=2 if page == 1 else 3, numbers=[f"SP{page}"])

    client = SupplierClient(session, await start_fake(growing), "10001", BASIC, page_size=1)
    with pytest.raises(ContractBroken, match=r"GET /products: .*/totalItems: is 3 on page 2, expected 2"):
        await client.products()


async def test_an_item_that_repeats_on_a_later_page_breaks_the_contract(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def repeating(request: web.Request) -> web.Response:
        return product_page(int(request.query["page"]), total=2, numbers=["SP1"])

    client = SupplierClient(session, await start_fake(repeating), "10001", BASIC, page_size=1)
    with pytest.raises(ContractBroken, match=r"GET /products: .*/items/0/productNumber: SP1 came before"):
        await client.products()


async def test_totals_that_promise_more_pages_than_the_items_fill_break_the_contract_at_once(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def endless(request: web.Request) -> web.Response:
        body = {"currentPage": 1, "pageSize": 1, "totalPages": 10**9, "totalItems": 1, "items": [product("SP1")]}
        return web.json_response(body)

    client = SupplierClient(session, await start_fake(endless), "10001", BASIC, page_size=1)
    with pytest.raises(ContractBroken, match="/totalPages: is 1000000000 on page 1, expected 1"):
        await client.products()


@pytest.mark.parametrize(
    ("answer", "violation"),
    [
        (web.Response(text="<html>ok</html>", content_type="text/html"), "/headers/Content-Type: is 'text/html'"),
        (web.Response(text="{not json", content_type="application/json"), "/: the body is not JSON"),
        (web.Response(status=500, text="Internal error", content_type="text/plain"), "/headers/Content-Type: is 'text"),
        (web.json_response({"title": "Oops"}, status=500, content_type=PROBLEM_JSON), "/detail: is required"),
        (web.json_response({}, status=302, headers={"Location": "http://127.0.0.1:1/"}), "/: status 302, expected 200"),
    ],
    ids=["html-success", "malformed-json", "plain-text-error", "incomplete-problem", "redirect"],
)
async def test_an_answer_that_is_not_what_the_contract_promises_is_contract_broken(
    start_fake: StartFake, session: aiohttp.ClientSession, answer: web.Response, violation: str
) -> None:
    async def reply(request: web.Request) -> web.Response:
        return answer

    client = SupplierClient(session, await start_fake(reply), "10001", BASIC, retry=ONCE)  # one answer object
    with pytest.raises(ContractBroken) as caught:
        await client.order("ORD1")
    assert f"GET /orders/ORD1: the answer breaks the contract: {violation}" in str(caught.value)


async def test_a_server_error_with_a_problem_is_rejected_carrying_the_problem(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def failing(request: web.Request) -> web.Response:
        return problem(503, "the supplier is down for maintenance")

    client = SupplierClient(session, await start_fake(failing), "10001", BASIC, retry=QUICK)
    with pytest.raises(SupplierRejected, match="GET /orders: 503 Error: the supplier is down") as caught:
        await client.orders()
    assert caught.value.problem["detail"] == "the supplier is down for maintenance"


async def test_a_secret_that_a_supplier_echoes_back_is_blanked_in_the_error(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def echoing(request: web.Request) -> web.Response:
        if request.method == "PUT":
            body = await request.json()
            return problem(422, f"the secret {body['secret']} is too weak")
        return problem(401, f"{request.headers['Authorization']} is not north-demo-pass-1")

    client = SupplierClient(session, await start_fake(echoing), "10001", BASIC)
    with pytest.raises(WrongCredentials) as refused:
        await client.products()
    with pytest.raises(SupplierRejected) as rejected:
        await client.register_webhook("http://127.0.0.1:9/hook", "not-the-password")
    assert "*** is not ***" in str(refused.value) and "the secret *** is too weak" in str(rejected.value)
    assert_no_secret_in(str(refused.value), repr(refused.value), str(rejected.value))


async def test_no_log_record_shows_a_secret(
    start_sim: StartSim, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await start_sim()
    for number in ("10001", "10002", "10003"):
        await client_of(server, session, number).check_access()
    with pytest.raises(WrongCredentials):
        await SupplierClient(session, server.url, "10002", Credentials("token", "south-market", "x" * 20)).products()
    assert any(record.name == "portal.supplier" for record in caplog.records)
    assert_no_secret_in(*(record.getMessage() for record in caplog.records), caplog.text)


async def test_a_webhook_is_registered_and_removed_and_removing_it_again_is_fine(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    server = await start_sim()
    client = client_of(server, session, "10003")
    registration = await client.register_webhook("http://127.0.0.1:9/hook", "webhook-secret-0123456789")
    assert registration["url"] == "http://127.0.0.1:9/hook" and "secret" not in registration
    await client.remove_webhook()
    await client.remove_webhook()
    deletes = await server.admin(session, "GET", "journal", params={"method": "DELETE"})
    assert [item["status"] for item in deletes["items"]] == [204, 404]


def test_the_reprs_show_no_secret() -> None:
    credentials = [BASIC, Credentials("api-key", api_key="east-demo-key-3f9a27c1d8e4")]
    texts = [repr(c) for c in credentials] + [
        repr(SupplierClient(NO_SESSION, "http://north-market:north-demo-pass-1@127.0.0.1:8080/", "10001", c))
        for c in credentials
    ]
    assert_no_secret_in(*texts)
    assert "SupplierClient('http://127.0.0.1:8080', customer_number='10001', method='basic')" in texts


def test_an_unknown_auth_method_or_page_size_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown auth method 'oauth'"):
        Credentials("oauth", "north-market", "north-demo-pass-1")
    with pytest.raises(ValueError, match="page_size must be from 1 to 1000, not 1001"):
        SupplierClient(NO_SESSION, "http://127.0.0.1:1", "10001", BASIC, page_size=1001)


def recording(client: SupplierClient) -> list[float]:
    """The pauses the client's retries take, recorded instead of waited out."""
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    client._sleep = sleep  # type: ignore[method-assign]
    return pauses


def flaky(*failures: tuple[int, dict[str, str]]) -> tuple[Handler, list[str]]:
    """A supplier that answers each of ``failures`` in turn, then an empty product page."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.method)
        if len(seen) <= len(failures):
            status, headers = failures[len(seen) - 1]
            problem = {"type": "about:blank", "title": "Busy", "status": status, "detail": "injected"}
            return web.json_response(problem, status=status, headers=headers, content_type=PROBLEM_JSON)
        page = {"items": [], "currentPage": 1, "pageSize": 1000, "totalItems": 0, "totalPages": 0}
        return web.json_response(page)

    return handle, seen


async def test_a_busy_supplier_is_tried_again_with_growing_jittered_pauses(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    handle, seen = flaky((503, {}), (500, {}), (502, {}))
    client = SupplierClient(session, await start_fake(handle), "10001", BASIC)
    pauses = recording(client)
    assert await client.products() == []
    assert len(seen) == 4 and len(pauses) == 3
    assert all(0 <= pause <= 0.25 * 2**n for n, pause in enumerate(pauses))


async def test_the_jitter_replays_with_the_seed(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        handle, _seen = flaky((503, {}), (503, {}))
        client = SupplierClient(session, await start_fake(handle), "10001", BASIC, seed=7)
        runs.append(recording(client))
        await client.products()
    assert runs[0] == runs[1] and len(runs[0]) == 2


async def test_retry_after_is_honoured_when_the_deadline_allows(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    handle, seen = flaky((429, {"Retry-After": "3"}), (503, {"Retry-After": "2"}))
    client = SupplierClient(session, await start_fake(handle), "10001", BASIC)
    pauses = recording(client)
    assert await client.products() == []
    assert pauses == [3.0, 2.0] and len(seen) == 3


async def test_a_retry_after_beyond_the_deadline_ends_the_call_at_once_with_the_429(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    handle, seen = flaky((429, {"Retry-After": "120"}))
    client = SupplierClient(session, await start_fake(handle), "10001", BASIC, retry=RetryPolicy(deadline_s=30))
    pauses = recording(client)
    with pytest.raises(SupplierRejected) as caught:
        await client.products()
    assert caught.value.status == 429 and pauses == [] and len(seen) == 1


async def test_a_refusal_is_not_tried_again(start_fake: StartFake, session: aiohttp.ClientSession) -> None:
    handle, seen = flaky((422, {}), (422, {}))
    client = SupplierClient(session, await start_fake(handle), "10001", BASIC)
    pauses = recording(client)
    with pytest.raises(SupplierRejected):
        await client.products()
    assert len(seen) == 1 and pauses == []


async def test_a_supplier_busy_past_the_last_attempt_gives_its_last_answer(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    handle, seen = flaky(*[(503, {})] * 10)
    client = SupplierClient(session, await start_fake(handle), "10001", BASIC, retry=RetryPolicy(attempts=3))
    recording(client)
    with pytest.raises(SupplierRejected) as caught:
        await client.products()
    assert caught.value.status == 503 and len(seen) == 3


async def test_an_order_created_whose_answer_was_lost_is_the_same_order_on_the_retry(
    start_sim: StartSim, session: aiohttp.ClientSession
) -> None:
    """The answers come too late: the first attempt made the order, and the retry with its key finds it."""
    server = await start_sim()
    products = [p for p in await client_of(server, session).products() if p.active][:2]
    rule = {"kind": "latency", "method": "POST", "path": "/orders", "latency": "300ms", "every": 1}
    await server.admin(session, "PUT", "faults", json=[rule])
    client = client_of(server, session, timeout_s=0.1, retry=RetryPolicy(attempts=2, base_s=0.5, cap_s=0.5))
    client._sleep = asyncio.sleep  # a real pause: the first attempt's order is made meanwhile
    with pytest.raises(SupplierUnreachable, match="after 2 attempt"):
        await client.create_order(order_request(products, "SO-RETRY"), "key-retry")
    await server.admin(session, "PUT", "faults", json=[])
    assert [o.order_number for o in await client_of(server, session).orders()] == ["SO-RETRY"]
    await asyncio.sleep(0.4)  # let the simulator finish the late answers the client gave up on
    created = await client_of(server, session).create_order(order_request(products, "SO-RETRY"), "key-retry")
    orders = await client_of(server, session).orders()
    assert [o.order_id for o in orders if o.order_number == "SO-RETRY"] == [created.order_id]


async def test_an_answer_cut_short_is_read_again_and_one_always_broken_is_contract_broken(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    page = b'{"items": [], "currentPage": 1, "pageSize": 1000, "totalItems": 0, "totalPages": 0}'
    served: list[int] = []

    async def cut_once(request: web.Request) -> web.Response:
        served.append(1)
        body = page[: len(page) // 2] if len(served) == 1 or request.query.get("broken") else page
        return web.Response(body=body, content_type="application/json")

    client = SupplierClient(session, await start_fake(cut_once), "10001", BASIC)
    recording(client)
    assert await client.products() == [] and len(served) == 2
    served.clear()
    with pytest.raises(ContractBroken, match="the body is not JSON"):
        await client._pages("/products", "product-page", "productNumber", {"broken": "1"}, dict)
    assert len(served) == client.retry.attempts


async def test_a_nul_in_supplier_text_breaks_the_contract_before_it_reaches_a_database(
    start_sim: StartSim, start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    """PostgreSQL cannot store a NUL: the contract forbids it, so the portal refuses it as a broken answer."""
    product = wire_product((await client_of(await start_sim(), session).products())[0])
    page = {"items": [{**product, "name": "Cola\u0000Zero"}], "currentPage": 1, "pageSize": 1000}

    async def nul(request: web.Request) -> web.Response:
        return web.json_response({**page, "totalItems": 1, "totalPages": 1})

    client = SupplierClient(session, await start_fake(nul), "10001", BASIC)
    with pytest.raises(ContractBroken, match=r"/items/0/name"):
        await client.products()


async def test_calls_waiting_for_a_hanging_login_all_end_within_their_deadline(
    silent_supplier: str, session: aiohttp.ClientSession
) -> None:
    """The deadline holds for the whole call, waiting for another call's login included."""
    policy = RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01, deadline_s=0.4)
    client = SupplierClient(session, silent_supplier, "10002", Credentials("token", "south-market", "x"), retry=policy)
    async with asyncio.timeout(3):  # one after another, ten would take four seconds
        failures = await asyncio.gather(*(client.order(f"X{n}") for n in range(10)), return_exceptions=True)
    assert all(isinstance(f, SupplierUnreachable) for f in failures), failures


async def test_an_answer_too_large_to_hold_is_refused_as_a_broken_contract(
    start_fake: StartFake, session: aiohttp.ClientSession, monkeypatch
) -> None:
    monkeypatch.setattr(supplier_client, "MAX_ANSWER_BYTES", 1000)

    async def huge(request: web.Request) -> web.Response:
        return web.json_response({"items": ["x" * 2000]})

    client = SupplierClient(session, await start_fake(huge), "10001", BASIC)
    with pytest.raises(ContractBroken, match="larger than 1,000 bytes"):
        await client.order("X")


async def test_a_nul_in_a_suppliers_problem_never_reaches_the_error_text(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    async def nul(request: web.Request) -> web.Response:
        body = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "key\u0000reused"}
        return web.json_response(body, status=409, content_type=PROBLEM_JSON)

    client = SupplierClient(session, await start_fake(nul), "10001", BASIC)
    with pytest.raises(SupplierRejected) as caught:
        await client.order("X")
    assert "\x00" not in str(caught.value) and "key\\u0000reused" in str(caught.value)


async def test_an_empty_204_said_to_be_json_is_taken_at_once(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    seen = []

    async def gone(request: web.Request) -> web.Response:
        seen.append(request.method)
        return web.Response(status=204, content_type="application/json")

    await SupplierClient(session, await start_fake(gone), "10001", BASIC).remove_webhook()
    assert seen == ["DELETE"]


async def test_a_broken_answer_outranks_a_later_attempt_that_got_none(
    start_fake: StartFake, session: aiohttp.ClientSession
) -> None:
    """Under load the last attempt may time out; what the supplier did answer is still judged."""
    served: list[int] = []

    async def broken_then_silent(request: web.Request) -> web.Response:
        served.append(1)
        if len(served) > 1:
            await asyncio.sleep(1)
        return web.Response(body=b'{"items": [', content_type="application/json")

    client = SupplierClient(session, await start_fake(broken_then_silent), "10001", BASIC, timeout_s=0.05)
    recording(client)
    with pytest.raises(ContractBroken, match="the body is not JSON"):
        await client.order("X")
    assert len(served) == client.retry.attempts
