"""The simulator's admin API: loopback by default, and with a token set, closed to anyone without it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from supplier_sim import SimServer, cli
from supplier_sim.cli import sim as sim_command
from tests.helpers import client_for, order_body

TOKEN = "admin-token-0123456789abcdef"
# A body each admin write would take, so that only the missing token can refuse it.
BODIES: dict[str, dict[str, Any]] = {
    "admin.advance": {"json": {"by": "1h"}},
    "admin.reset": {"params": {"seed": "9"}},
    "admin.profile": {"data": "catalog: {size: 5, changes: []}\n"},
    "admin.transition": {"json": {"status": "PROCESSED"}},
    "admin.dispatch": {"json": {}},
    "admin.catalog-change": {"json": {"kind": "price"}},
    "admin.faults.put": {"json": []},
    "admin.credentials.put": {"json": {"apiKey": "a-new-key-0123456789"}},
}


async def admin_server(start_sim) -> tuple[SimServer, str]:
    """A simulator with an admin token and one order of customer 10003."""
    server = await start_sim(admin_token=TOKEN)
    async with aiohttp.ClientSession() as session:
        east = await client_for(server, session, "10003")
        items = (await east.call("GET", "/products", params={"size": "5"})).body["items"]
        order = (await east.create_order(order_body([p for p in items if p["active"]][:1]))).body
    return server, order["orderId"]


def admin_routes(server: SimServer) -> list[tuple[str, str, str]]:
    """Every admin route as (name, method, path template), but the dashboard's sign-in page, which shows a form only."""
    return [
        (route.name or "", route.method, route.resource.canonical)
        for route in server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/_sim/")
        and route.method != "HEAD"
        and route.name != "ui.login"
    ]


async def state(server: SimServer, session: aiohttp.ClientSession, order_id: str) -> tuple[Any, ...]:
    sim = server.sim
    number = sim.catalog.numbers()[0]
    order = (await (await client_for(server, session, "10003")).call("GET", f"/orders/{order_id}")).body
    return sim.clock.now_ms(), sim.seed, sim.profile, sim.catalog.get(number), order, sim.faults.rules


@pytest.mark.parametrize("given", [None, "", "wrong", TOKEN + "x", TOKEN[:-1], TOKEN.upper()])
async def test_every_admin_route_refuses_a_missing_or_wrong_token_with_401_and_changes_nothing(
    start_sim, session: aiohttp.ClientSession, given: str | None
) -> None:
    server, order_id = await admin_server(start_sim)
    routes = admin_routes(server)
    assert {name for name, _, _ in routes} >= set(BODIES) | {"admin.journal", "admin.deliveries", "admin.customers"}
    before = await state(server, session, order_id)
    headers = {} if given is None else {"X-Admin-Token": given}
    for name, method, template in routes:
        kwargs = dict(BODIES.get(name, {}))
        if name == "admin.catalog-change":
            kwargs["json"] = {**kwargs["json"], "productNumber": server.sim.catalog.numbers()[0]}
        url = server.url + template.format(orderId=order_id, number="10003")
        async with session.request(method, url, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None)
            assert response.status == 401, (method, template, body)
            assert response.content_type == "application/problem+json" and body["status"] == 401
            assert response.headers["WWW-Authenticate"].startswith("AdminToken")
            assert not given or given not in json.dumps(body)
    assert await state(server, session, order_id) == before


async def test_the_right_token_opens_the_admin_api_and_the_supplier_api_needs_none(start_sim, session) -> None:
    server, order_id = await admin_server(start_sim)
    assert (await server.admin(session, "GET", "clock"))["mode"] == "virtual"
    moved = await server.admin(session, "POST", f"orders/{order_id}/transition", json={"status": "PROCESSED"})
    assert moved["status"] == "PROCESSED"
    east = await client_for(server, session, "10003")
    assert (await east.call("GET", f"/orders/{order_id}")).status == 200


@pytest.mark.parametrize(
    "target", [b"/_sim/clock/", b"/%5Fsim/clock", b"/_sim//clock", b"/_sim/./clock", b"/_sim%2Fclock", b"//_sim/clock"]
)
async def test_a_disguised_admin_path_never_gets_past_the_token(start_sim, target: bytes) -> None:
    server = await start_sim(admin_token=TOKEN)
    status = await raw_status(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n")
    assert status in (b"401", b"404")


async def test_a_token_that_is_not_utf8_gets_401_not_500(start_sim) -> None:
    server = await start_sim(admin_token=TOKEN)
    assert await raw_status(server, b"GET /_sim/clock HTTP/1.1\r\nHost: x\r\nX-Admin-Token: \xff\xfe\r\n") == b"401"


async def raw_status(server: SimServer, head: bytes) -> bytes:
    """The status of a request written byte for byte, past any client's normalizing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head + b"Connection: close\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return status_line.split()[1]


async def test_the_admin_token_never_shows_in_the_journal(start_sim, session) -> None:
    server = await start_sim(admin_token=TOKEN)
    await server.admin(session, "POST", "clock/advance", json={"by": "1m"})
    async with session.get(f"{server.url}/_sim/clock", headers={"X-Admin-Token": "a-wrong-guess-0123456789"}):
        pass
    journal = json.dumps(await server.admin(session, "GET", "journal"))
    assert "/_sim/clock/advance" in journal and "/_sim/clock" in journal
    assert TOKEN not in journal and "a-wrong-guess-0123456789" not in journal


def test_the_cli_listens_on_loopback_unless_told_and_takes_the_token_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("ORDERPORTAL_SIM_ADMIN_TOKEN", raising=False)
    plain = sim_command.make_context("sim", []).params  # parsed only: nothing starts
    assert plain["host"] == "127.0.0.1" and plain["admin_token"] is None and not plain["no_admin"]
    monkeypatch.setenv("ORDERPORTAL_SIM_ADMIN_TOKEN", TOKEN)
    assert sim_command.make_context("sim", []).params["admin_token"] == TOKEN


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "sim.example"])
def test_the_cli_refuses_to_serve_the_admin_api_beyond_loopback_without_a_token(monkeypatch, host: str) -> None:
    monkeypatch.delenv("ORDERPORTAL_SIM_ADMIN_TOKEN", raising=False)
    served: list[str] = []
    monkeypatch.setattr(cli, "_serve", lambda server: _record(served, server))
    refused = CliRunner().invoke(sim_command, ["--host", host, "--port", "0"])
    assert refused.exit_code == 2 and "--admin-token" in refused.output and "--public-admin" in refused.output
    assert served == []
    for allowed in (["--admin-token", TOKEN], ["--no-admin"], ["--public-admin"]):
        result = CliRunner().invoke(sim_command, ["--host", host, "--port", "0", *allowed])
        assert result.exit_code == 0, result.output
    assert served == [host] * 3


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.8.9.10"])
def test_the_cli_serves_the_admin_api_on_loopback_without_a_token(monkeypatch, host: str) -> None:
    monkeypatch.delenv("ORDERPORTAL_SIM_ADMIN_TOKEN", raising=False)
    served: list[str] = []
    monkeypatch.setattr(cli, "_serve", lambda server: _record(served, server))
    assert CliRunner().invoke(sim_command, ["--host", host, "--port", "0"]).exit_code == 0
    assert served == [host]


async def _record(served: list[str], server: SimServer) -> None:
    served.append(server.host)
