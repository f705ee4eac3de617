"""A page on another site cannot change the portal through a visitor's browser."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
import yaml

import contracts
from contracts.serving import UNSAFE_METHODS as UNSAFE
from tests.conftest import Shop

CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},
]


def unsafe_operations() -> list[tuple[str, str]]:
    """Every unsafe operation the portal documents, its path parameters filled in (the refusal comes first)."""
    document = yaml.safe_load((Path(contracts.__file__).parent / "portal-openapi.yaml").read_text("utf-8"))
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in UNSAFE
    ]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=["origin", "null-origin", "fetch-site", "same-site-other-port"])
async def test_every_unsafe_request_from_another_site_is_a_403_problem_and_changes_nothing(
    shop: Shop, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    before = (
        await shop.api.ok("GET", "/api/outbox"),
        await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}"),
    )
    paths = unsafe_operations()
    assert len(paths) > 20, paths
    for method, path in paths:
        async with session.request(method, shop.portal.url + path, data=b"{}", headers=headers) as response:
            assert (response.status, response.content_type) == (403, "application/problem+json"), (method, path)
    org_units = await shop.api.call("POST", "/api/org-units", {"code": "EVIL", "name": "x"}, headers=headers)
    assert org_units.status == 403
    after = (
        await shop.api.ok("GET", "/api/outbox"),
        await shop.api.ok("GET", f"/api/customer-numbers/{shop.customer['id']}"),
    )
    assert after == before


async def test_the_portals_own_origin_and_clients_that_are_no_browser_are_served(shop: Shop) -> None:
    same = {"Origin": shop.portal.url, "Sec-Fetch-Site": "same-origin"}
    assert (await shop.api.call("POST", "/api/org-units", {"code": "OWN", "name": "x"}, headers=same)).status == 201
    assert (await shop.api.call("POST", "/api/org-units", {"code": "CLI", "name": "x"})).status == 201
    assert (await shop.api.call("POST", "/api/sync")).status == 200


def sim_unsafe_routes(app: aiohttp.web.Application) -> list[tuple[str, str]]:
    """Every unsafe route of the simulator's admin API and dashboard, its path parameters filled in."""
    return [
        (route.method, re.sub(r"\{[^}]+\}", "1", resource.canonical))
        for resource in app.router.resources()
        if resource.canonical.startswith("/_sim/")
        for route in resource
        if route.method in UNSAFE
    ]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=["origin", "null-origin", "fetch-site", "same-site-other-port"])
async def test_a_page_of_another_origin_cannot_drive_the_simulators_admin_api(
    start_sim, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    token = "admin-token-for-the-cross-site-test"
    server = await start_sim(admin_token=token)
    signed_in = {**headers, "Cookie": f"sim_admin_token={token}"}  # the dashboard's cookie goes to every port
    before = await server.admin(session, "GET", "clock")
    routes = sim_unsafe_routes(server.app)
    assert {("POST", "/_sim/reset"), ("POST", "/_sim/clock/advance"), ("PUT", "/_sim/faults")} <= set(routes)
    for method, path in routes:
        async with session.request(method, server.url + path, data=b"{}", headers=signed_in) as response:
            assert (response.status, response.content_type) == (403, "application/problem+json"), (method, path)
    assert await server.admin(session, "GET", "clock") == before


async def test_the_simulators_own_dashboard_and_clients_that_are_no_browser_may_change_it(
    sim, session: aiohttp.ClientSession
) -> None:
    same = {"Origin": sim.url, "Sec-Fetch-Site": "same-origin"}
    for headers in (same, {}):
        async with session.post(f"{sim.url}/_sim/clock/advance", json={"by": "1m"}, headers=headers) as response:
            assert response.status == 200
