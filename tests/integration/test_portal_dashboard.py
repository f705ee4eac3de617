"""The portal's dashboard at /ui: its pages over a real flow against the simulator, escaped, without secrets, live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from tests.conftest import Shop

HOSTILE = "<script>alert(1)</script>"


async def hostile_order(shop: Shop) -> dict[str, Any]:
    """A booked order of a product the supplier renamed to markup, before the portal imported it."""
    await shop.open()
    product = next(p for p in await shop.products() if p["active"])
    await shop.admin.change_catalog({"kind": "rename", "productNumber": product["productNumber"], "name": HOSTILE})
    await shop.open()
    return await shop.order([(product["productNumber"], 2)])


async def html(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as answer:
        assert answer.status == 200, url
        assert answer.content_type == "text/html"
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        return await answer.text()


async def events(answer: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """The stream's messages as (event, decoded data)."""
    kind = ""
    async for raw in answer.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield kind, orjson.loads(line.removeprefix("data: "))


async def collect(stream: AsyncIterator[tuple[str, Any]], *wanted: str) -> dict[str, list[Any]]:
    """The items of each kind the stream brings until every kind ``wanted`` came; a hang is a failure."""
    got: dict[str, list[Any]] = {}
    async with asyncio.timeout(10):
        async for kind, data in stream:
            got.setdefault(kind, []).extend(data if isinstance(data, list) else [data])
            if all(name in got for name in wanted):
                return got
    raise AssertionError(f"the stream ended before {wanted}")


async def test_every_page_shows_a_whole_flow_with_markup_as_text_and_no_secret(shop: Shop, session) -> None:
    order = await hostile_order(shop)
    sent = await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
    await shop.advance("1h")  # PROCESSED, ACCEPTED and the dispatch, by webhook
    await shop.api.ok("POST", f"/api/stock-orders/{sent['id']}/dispatch-notifications")
    receipt = await shop.api.ok("POST", f"/api/stock-orders/{sent['id']}/receipt")
    await shop.api.ok("POST", f"/api/stock-receipts/{receipt['id']}/book")
    base = shop.portal.url
    pages = {
        path: await html(session, base + path)
        for path in (
            "/ui",
            "/ui?status=ACCEPTED",
            f"/ui/orders/{sent['id']}",
            "/ui/violations",
            "/ui/stock",
            "/ui/suppliers",
        )
    }
    listing = pages["/ui?status=ACCEPTED"]
    assert sent["number"] in listing and 'aria-current="step">ACCEPTED</li>' in listing
    assert sent["number"] not in await html(session, base + "/ui?status=NEW")
    detail = pages[f"/ui/orders/{sent['id']}"]
    for status in ("NEW", "PROCESSED", "ACCEPTED"):
        assert f'<span class="badge {status}">{status}</span>' in detail  # the history, one move each
    assert "No dispatch notifications" not in detail and "No stock receipts" not in detail
    assert "BOOKED" in detail and "Not in the outbox" in detail
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escaped in detail and escaped in pages["/ui/stock"]
    assert shop.customer["number"] in pages["/ui/suppliers"] and "COUPLED" in pages["/ui/suppliers"]
    login = await shop.admin.credentials(shop.customer["number"])
    secret = await shop.portal.state().webhook_secret(shop.customer["id"])
    secrets = [s for s in (login.password, login.api_key, secret) if s]
    assert secrets, "the shop signs in with some secret"
    for path, text in pages.items():
        assert HOSTILE not in text, path
        assert not [s for s in secrets if s in text], path


async def test_an_order_in_the_outbox_shows_its_attempts_its_error_the_withdraw_action_and_the_evidence(
    shop: Shop, session
) -> None:
    order = await hostile_order(shop)
    rule = {"kind": "truncate", "method": "POST", "path": "/orders"}  # an answer cut short breaks the contract
    await shop.sim.admin(session, "PUT", "faults", json=[rule])
    async with session.get(f"{shop.portal.url}/ui/events") as answer:
        stream = events(answer)
        assert (await anext(stream))[0] == "hello"
        assert (await shop.api.call("POST", f"/api/stock-orders/{order['id']}/send")).status == 202
        got = await collect(stream, "outbox", "violation")
        assert {item["stockOrderId"] for item in got["outbox"] + got["violation"]} == {order["id"]}
    detail = await html(session, f"{shop.portal.url}/ui/orders/{order['id']}")
    intent = (await shop.api.ok("GET", "/api/outbox"))["items"][0]
    assert 'class="attempts">1<' in detail and intent["lastError"].split(":")[0] in detail
    assert f'data-action="/api/outbox/{order["id"]}" data-method="DELETE"' in detail
    assert "waiting, 1 attempt(s)" in await html(session, f"{shop.portal.url}/ui?state=BOOKED")
    async with session.get(f"{shop.portal.url}/ui/events") as answer:
        stream = events(answer)
        assert (await anext(stream))[0] == "hello"
        await shop.api.ok("DELETE", f"/api/outbox/{order['id']}")
        removed = (await collect(stream, "outbox.removed"))["outbox.removed"]
        assert [item["stockOrderId"] for item in removed] == [order["id"]]
    evidence = await html(session, f"{shop.portal.url}/ui/violations")
    assert "<code>contract</code>" in evidence and f'href="/ui/orders/{order["id"]}"' in evidence


async def test_the_stream_tells_a_listening_page_of_each_change_of_an_order(shop: Shop, session) -> None:
    async with session.get(f"{shop.portal.url}/ui/events") as answer:
        assert answer.content_type == "text/event-stream"
        stream = events(answer)
        assert (await anext(stream))[0] == "hello"
        order = await hostile_order(shop)
        await shop.api.ok("POST", f"/api/stock-orders/{order['id']}/send")
        sent = await collect(stream, "outbox", "outbox.removed")  # queued, then delivered
        assert {"id": order["id"], "stockOrderId": order["id"], "state": "SENT", "status": "NEW"} in sent["order"]
        await shop.advance("6m")  # the supplier processes it and says so by webhook
        moved = (await collect(stream, "order"))["order"]
        assert moved == [{"id": order["id"], "stockOrderId": order["id"], "state": "SENT", "status": "PROCESSED"}]
        await shop.advance("20m")  # accepted, then dispatched
        dispatched = (await collect(stream, "dispatch"))["dispatch"]
        assert [item["stockOrderId"] for item in dispatched] == [order["id"]]


async def test_a_bad_filter_is_a_problem_naming_the_query_field(shop: Shop, session) -> None:
    async with session.get(f"{shop.portal.url}/ui?state=%3Cb%3E") as answer:
        assert answer.status == 422 and answer.content_type == "application/problem+json"
        body = await answer.json()
    assert body["errors"][0]["pointer"] == "/query/state" and "<b>" not in str(body)
    async with session.get(f"{shop.portal.url}/ui/orders/999999") as answer:
        assert answer.status == 404


async def test_a_list_opens_at_its_newest_page_and_pages_back(shop: Shop, session, monkeypatch) -> None:
    from portal.entrypoints.routes import dashboard

    monkeypatch.setattr(dashboard, "PAGE_SIZE", 1)
    first = await hostile_order(shop)
    other = [p for p in await shop.products() if p["active"]][1]
    second = await shop.order([(other["productNumber"], 1)])
    newest = await html(session, f"{shop.portal.url}/ui")
    assert second["number"] in newest and first["number"] not in newest
    assert 'href="/ui?page=1">← older</a>' in newest and "page 2 of 2" in newest
    oldest = await html(session, f"{shop.portal.url}/ui?page=1")
    assert first["number"] in oldest and second["number"] not in oldest and "newer →" in oldest
