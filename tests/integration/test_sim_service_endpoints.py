"""The simulator's health check and its own OpenAPI document: open to all, never faulted, never journaled."""

from __future__ import annotations

import yaml

from contracts import contracts
from tests.helpers import client_for

TOKEN = "admin-token-0123456789abcdef"


async def test_healthz_answers_ok_without_a_login_and_stays_out_of_the_journal(start_sim, session) -> None:
    server = await start_sim(admin_token=TOKEN)
    async with session.get(f"{server.url}/healthz") as response:
        assert response.status == 200 and response.content_type == "application/json"
        assert await response.json() == {"status": "ok"}
    assert (await server.admin(session, "GET", "journal"))["items"] == []


async def test_the_simulator_serves_its_openapi_document_to_anyone(start_sim, session) -> None:
    server = await start_sim(admin_token=TOKEN)
    async with session.get(f"{server.url}/api/v1/openapi.yaml") as response:
        assert response.status == 200 and response.content_type == "application/yaml"
        document = yaml.safe_load(await response.text())
    assert document["servers"] == [{"url": server.url}]  # the server that answers, on the port it was given
    assert {**document, "servers": None} == {**contracts().openapi, "servers": None}
    assert "/api/v1/customers/{customerNumber}/products" in document["paths"]


async def test_a_fault_on_every_api_request_spares_the_document_and_the_journal_never_shows_it(
    start_sim, session
) -> None:
    server = await start_sim()
    await server.admin(session, "PUT", "faults", json=[{"kind": "error", "status": 503}])
    async with session.get(f"{server.url}/api/v1/openapi.yaml") as response:
        assert response.status == 200
    north = await client_for(server, session, "10001")
    assert (await north.call("GET", "/products")).status == 503  # the rule does hit the Supplier API
    journal = (await server.admin(session, "GET", "journal", params={"path": "/api/"}))["items"]
    assert [e["path"] for e in journal] == ["/api/v1/customers/10001/products"]
    hits = (await server.admin(session, "GET", "faults/hits"))["items"]
    assert [item["hits"] for item in hits] == [1]
