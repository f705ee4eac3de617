"""The simulator's dashboard: its pages render what the admin API holds, escaped, without a secret, and live."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp
import pytest

from supplier_sim import SimServer
from tests.helpers import SimClient, client_for, order_body
from tests.integration.test_sim_journal import secrets_of, traffic_with_every_secret

TOKEN = "admin-token-0123456789abcdef"
PAGES = ("/_sim/ui", "/_sim/ui/journal", "/_sim/ui/clock", "/_sim/ui/faults", "/_sim/ui/profile")
HOSTILE = "<script>alert('x')</script>"
FAST = {
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1m"},
    "webhooks": {"maxAttempts": 4, "backoff": "10s"},
}
CUSTOMERS = {
    "customers": [
        {"number": "10001", "name": HOSTILE, "auth": "basic", "username": "north-market", "password": "north-pass-77"},
        {"number": "10003", "name": "East", "auth": "api-key", "apiKey": "east-key-0123456789abcdef"},
    ]
}


async def html(session: aiohttp.ClientSession, url: str, status: int = 200) -> str:
    async with session.get(url) as response:
        text = await response.text()
        assert response.status == status, text
        if status == 200:
            assert response.content_type == "text/html"
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        return text


async def an_order(client: SimClient, number: str = "SO-1") -> dict:
    items = (await client.call("GET", "/products", params={"size": "5"})).body["items"]
    return (await client.create_order(order_body([p for p in items if p["active"]][:1], number))).body


def main_of(page: str) -> str:
    """The page's content, without the inlined script (which names fields such as tokens in its own code)."""
    return page[page.index("<main>") : page.index("</main>")]


async def test_every_page_renders_and_none_is_journaled(start_sim, session) -> None:
    server = await start_sim(FAST)
    order = await an_order(await client_for(server, session, "10001"))
    for path in (*PAGES, f"/_sim/ui/orders/{order['orderId']}"):
        page = await html(session, server.url + path)
        assert "Supplier simulator" in page
    journal = (await server.admin(session, "GET", "journal", params={"path": "/_sim/ui"}))["items"]
    assert journal == []


async def test_an_unknown_order_has_no_timeline(start_sim, session) -> None:
    server = await start_sim()
    async with session.get(f"{server.url}/_sim/ui/orders/ORD99999999") as response:
        assert response.status == 404 and response.content_type == "application/problem+json"


async def test_the_orders_table_filters_by_customer_and_status(start_sim, session) -> None:
    server = await start_sim(FAST)
    north, east = await client_for(server, session, "10001"), await client_for(server, session, "10003")
    first, second = await an_order(north, "SO-N"), await an_order(east, "SO-E")
    await server.admin(session, "POST", f"orders/{first['orderId']}/transition", json={"status": "PROCESSED"})
    shown = await html(session, f"{server.url}/_sim/ui")
    assert first["orderId"] in shown and second["orderId"] in shown
    of_east = await html(session, f"{server.url}/_sim/ui?customer=10003")
    assert first["orderId"] not in of_east and second["orderId"] in of_east
    processed = await html(session, f"{server.url}/_sim/ui?status=PROCESSED")
    assert first["orderId"] in processed and second["orderId"] not in processed
    assert f'href="/_sim/ui/orders/{first["orderId"]}"' in processed


async def test_a_hostile_product_or_customer_name_renders_as_text(start_sim, session) -> None:
    server = await start_sim({**FAST, **CUSTOMERS})
    north = await client_for(server, session, "10001")
    order = await an_order(north)
    number = order["lines"][0]["productNumber"]
    await server.admin(
        session, "POST", "catalog/changes", json={"kind": "rename", "productNumber": number, "name": HOSTILE}
    )
    for path in (f"/_sim/ui/orders/{order['orderId']}", "/_sim/ui", "/_sim/ui/profile"):
        page = main_of(await html(session, server.url + path))
        assert HOSTILE not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page, path


async def test_a_timeline_shows_moves_requests_each_webhook_attempt_and_dispatches(
    start_sim, session, receiver_factory
) -> None:
    server = await start_sim(FAST)
    receiver = await receiver_factory(failures=1)
    north = await client_for(server, session, "10001")
    await north.call("PUT", "/webhook", json={"url": receiver.url, "secret": "whsec-dashboard-secret-0001"})
    order = await an_order(north)
    await north.call("GET", f"/orders/{order['orderId']}")
    await north.call("GET", "/orders")  # a list that shows the order is no step of its own
    await north.advance("1h")
    page = main_of(await html(session, f"{server.url}/_sim/ui/orders/{order['orderId']}"))
    kinds = re.findall(r'data-kind="(\w+)"', page)
    assert kinds.count("move") == 3 and kinds.count("request") == 2 and kinds.count("dispatch") == 1
    assert kinds[0] == "request"  # at one instant, the request that created the order comes before its NEW
    first_event = page[page.index('data-kind="webhook"') :]
    first_event = first_event[: first_event.index("</li>")]
    attempts = re.findall(r'<tr data-attempt="(\d)">.*?status-(\dxx)">(\d+)<', first_event, re.S)
    assert attempts == [("1", "5xx", "503"), ("2", "2xx", "204")]
    assert first_event.count(">signed<") == 2
    assert "whsec-dashboard-secret-0001" not in page and receiver.url not in page


async def test_the_journal_page_filters_explains_refusals_and_copies_curl_without_a_secret(start_sim, session) -> None:
    server = await start_sim()
    north, south, east = await traffic_with_every_secret(server, session)
    await north.call("POST", "/orders", json={"orderNumber": 7}, headers={"Idempotency-Key": "bad-1"})
    page = main_of(await html(session, f"{server.url}/_sim/ui/journal"))
    for secret in secrets_of(north, south, east):
        assert secret and secret not in page
    curls = re.findall(r'<pre class="curl" id="curl-\d+">(.*?)</pre>', page, re.S)
    assert len(curls) == 6
    assert any("Authorization: Basic ***" in c for c in curls) and any("X-Api-Key: ***" in c for c in curls)
    assert any("Authorization: Bearer ***" in c for c in curls)
    refused = main_of(await html(session, f"{server.url}/_sim/ui/journal?status=422"))
    assert refused.count("<tr data-seq=") == 1
    why = re.search(r'<div class="why".*?</div>', refused, re.S)
    assert why and "<code>/orderNumber</code>" in why.group(0) and "<code>/lines</code>" in why.group(0)
    orders = main_of(await html(session, f"{server.url}/_sim/ui/journal?path=orders&method=POST"))
    assert orders.count("<tr data-seq=") == 1
    of_east = main_of(await html(session, f"{server.url}/_sim/ui/journal?customer=10003"))
    assert of_east.count("<tr data-seq=") == 2


async def test_a_bad_journal_filter_is_shown_beside_its_field(start_sim, session) -> None:
    server = await start_sim()
    page = main_of(await html(session, f"{server.url}/_sim/ui/journal?since=yesterday&status=9"))
    assert re.search(r'name="since"[^>]*aria-invalid="true"', page)
    assert 'data-for="since"' in page and 'data-for="status"' in page and "yesterday" in page  # kept in its field


async def test_an_invalid_fault_rule_is_a_problem_with_its_pointer_and_changes_nothing(start_sim, session) -> None:
    server = await start_sim()
    rules = [{"kind": "error", "status": 503, "path": "/products", "every": 2}]
    await server.admin(session, "PUT", "faults", json=rules)
    async with session.put(f"{server.url}/_sim/faults", json=[*rules, {"kind": "explode"}]) as response:
        problem = await response.json(content_type=None)
        assert response.status == 422 and response.content_type == "application/problem+json"
    assert problem["errors"] and all(e["pointer"].startswith("/1") for e in problem["errors"])
    assert await server.admin(session, "GET", "faults") == rules
    page = main_of(await html(session, f"{server.url}/_sim/ui/faults"))
    assert page.count('<tr><td class="num">') == 1 and 'data-json-action="/_sim/faults"' in page


async def test_the_clock_page_lists_the_next_events_and_offers_the_next_one(start_sim, session) -> None:
    server = await start_sim(FAST)
    order = await an_order(await client_for(server, session, "10001"))
    page = main_of(await html(session, f"{server.url}/_sim/ui/clock"))
    assert f"process {order['orderId']}" in page
    assert 'data-json=\'{"to": "2026-01-05T08:05:00.000Z"}\'' in page


async def test_the_profile_page_shows_customers_but_no_login(start_sim, session) -> None:
    server = await start_sim(CUSTOMERS)
    page = main_of(await html(session, f"{server.url}/_sim/ui/profile"))
    assert "10001" in page and "api-key" in page
    assert "north-pass-77" not in page and "east-key-0123456789abcdef" not in page and "north-market" not in page


@pytest.mark.parametrize("given", [None, "wrong"])
async def test_without_the_admin_token_every_dashboard_route_is_refused(start_sim, session, given) -> None:
    server = await start_sim(admin_token=TOKEN)
    headers = {"X-Admin-Token": given} if given else {}
    for path in (*PAGES, "/_sim/ui/orders/ORD00000001", "/_sim/ui/events"):
        async with session.get(server.url + path, headers=headers) as response:
            assert response.status == 401 and response.content_type == "application/problem+json", path
    async with session.get(server.url + "/_sim/ui", headers={"X-Admin-Token": TOKEN}) as response:
        assert response.status == 200


async def test_a_browser_signs_in_once_and_its_cookie_opens_the_dashboard_and_the_admin_api(start_sim) -> None:
    server = await start_sim(admin_token=TOKEN)
    async with aiohttp.ClientSession() as browser:
        sign_in = await html(browser, f"{server.url}/_sim/ui/login")
        assert 'type="password"' in sign_in and TOKEN not in sign_in
        async with browser.get(f"{server.url}/_sim/ui") as refused:
            assert refused.status == 401 and "/_sim/ui/login" in (await refused.json(content_type=None))["detail"]
    for cookie, status in ((TOKEN, 200), ("wrong-" + TOKEN, 401)):
        async with aiohttp.ClientSession(cookies={"sim_admin_token": cookie}) as browser:
            for path in ("/_sim/ui", "/_sim/clock"):
                async with browser.get(server.url + path) as response:
                    assert response.status == status, (path, cookie)


async def test_a_browser_without_the_token_is_sent_to_sign_in_and_a_client_gets_a_problem(start_sim, session) -> None:
    server = await start_sim(admin_token=TOKEN)
    page = {"Accept": "text/html,application/xhtml+xml"}
    async with session.get(f"{server.url}/_sim/ui/journal", headers=page, allow_redirects=False) as response:
        assert (response.status, response.headers["Location"]) == (303, "/_sim/ui/login")
    async with session.get(f"{server.url}/_sim/clock", headers=page, allow_redirects=False) as response:
        assert response.status == 401  # the admin API itself stays a problem, for clients


async def test_with_the_admin_api_off_there_is_no_dashboard(start_sim, session) -> None:
    server = await start_sim(admin=False)
    for path in (*PAGES, "/_sim/ui/events"):
        async with session.get(server.url + path) as response:
            assert response.status == 404, path


async def test_the_event_stream_carries_new_exchanges_and_order_moves(start_sim, session) -> None:
    server = await start_sim(FAST)
    north = await client_for(server, session, "10001")
    assert not server.sim.hub.listening
    async with session.get(f"{server.url}/_sim/ui/events") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b"retry: 2000\n"
        order = await an_order(north)
        await north.advance("6m")
        seen: dict[str, list] = {}
        async with asyncio.timeout(10):
            while not ({"exchange", "order", "clock"} <= seen.keys() and len(seen["order"]) >= 2):
                line = (await stream.content.readline()).decode()
                if line.startswith("event: "):
                    kind = line.split()[1]
                elif line.startswith("data: ") and kind not in ("hello",):
                    seen.setdefault(kind, []).extend(json.loads(line[6:]))
    assert [(o["orderId"], o["status"]) for o in seen["order"][:2]] == [
        (order["orderId"], "NEW"),
        (order["orderId"], "PROCESSED"),
    ]
    assert any(x["path"].endswith("/orders") and x["status"] == 201 for x in seen["exchange"])
    assert "Authorization" not in json.dumps(seen) and north.customer.password not in json.dumps(seen)


async def test_stopping_the_simulator_ends_an_open_event_stream(session) -> None:
    from tests.conftest import sim_server

    server: SimServer = sim_server()
    await server.start()
    async with session.get(f"{server.url}/_sim/ui/events") as stream:
        await stream.content.readline()
        async with asyncio.timeout(5):  # a stream that outlived its server would hold the stop past this
            await server.stop()
            await stream.content.read()
        assert stream.content.at_eof()
    server.check()


async def test_a_page_that_shows_only_orders_costs_the_journal_nothing(start_sim, session) -> None:
    server = await start_sim(FAST)
    async with session.get(f"{server.url}/_sim/ui/events", params={"kinds": "order,clock"}) as stream:
        await stream.content.readline()
        assert server.sim.hub.listening and not server.sim.hub.wants("exchange")
        await an_order(await client_for(server, session, "10001"))
        async with asyncio.timeout(5):
            while not (line := await stream.content.readline()).startswith(b"event: order"):
                assert not line.startswith(b"event: exchange")


async def test_a_secret_in_a_query_string_is_blanked_in_the_journal_and_its_curl(start_sim, session) -> None:
    server = await start_sim()
    north = await client_for(server, session, "10001")
    await north.call("GET", "/products", params={"size": "1", "apiKey": "query-secret-0123456789"})
    page = main_of(await html(session, f"{server.url}/_sim/ui/journal"))
    assert "query-secret-0123456789" not in page and "apiKey=***" in page
    assert "query-secret-0123456789" not in json.dumps(await server.admin(session, "GET", "journal"))


async def test_with_no_page_open_the_simulator_publishes_nothing(start_sim, session, receiver_factory) -> None:
    server = await start_sim(FAST)
    published: list[str] = []
    server.sim.hub.publish = lambda kind, item: published.append(kind)  # type: ignore[method-assign]
    north = await client_for(server, session, "10001")
    receiver = await receiver_factory()
    await north.call("PUT", "/webhook", json={"url": receiver.url, "secret": "whsec-nobody-watches-0001"})
    await an_order(north)
    await server.admin(session, "POST", "clock/advance", json={"by": "1h"})
    assert published == []


@pytest.mark.parametrize("query", ["/_sim/ui?status=%00", "/_sim/ui?customer=%00", "/_sim/orders?customer=%00"])
async def test_a_nul_in_a_dashboard_or_admin_filter_is_a_400_problem(start_sim, session, query) -> None:
    server = await start_sim()
    async with session.get(server.url + query) as answer:
        assert (answer.status, answer.content_type) == (400, "application/problem+json")


async def test_a_closed_page_gives_its_place_in_the_stream_back_within_seconds(start_sim) -> None:
    from contracts.dashboard import MAX_SUBSCRIBERS

    server = await start_sim()
    for _ in range(MAX_SUBSCRIBERS):  # every place taken, then each page closed without a word
        async with aiohttp.ClientSession() as gone, gone.get(f"{server.url}/_sim/ui/events") as stream:
            await stream.content.readline()
    async with aiohttp.ClientSession() as session, asyncio.timeout(5):  # the heartbeat alone would take 15 s
        while True:
            async with session.get(f"{server.url}/_sim/ui/events") as stream:
                if stream.status == 200:
                    break
            await asyncio.sleep(0.2)
