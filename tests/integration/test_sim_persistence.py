"""State lives in the database: a restart on the same SQLite file or PostgreSQL database resumes it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile
from tests.helpers import client_for, order_body

PG_ADMIN = os.environ.get("ORDERPORTAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROFILE = {
    "catalog": {"size": 40, "changes": []},
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "5m"},
    "dispatch": {"delay": "1m"},
}


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if os.environ.get("ORDERPORTAL_SKIP_PG") == "1":
        pytest.skip("ORDERPORTAL_SKIP_PG=1")
    name = f"orderportal_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("ORDERPORTAL_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"no PostgreSQL at {PG_ADMIN} ({exc}); set ORDERPORTAL_REQUIRE_PG=1 to make this a failure")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite-file", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'sim.db'}"
    return request.getfixturevalue("pg_url")


async def test_a_restarted_simulator_resumes_orders_tokens_clock_and_catalog(db_url: str, session) -> None:
    config = SimConfig(profile=parse_profile(PROFILE, base=None), db_url=db_url, strict=True)
    first = SimServer(config)
    await first.start()
    south = await client_for(first, session, "10002")
    await south.login()
    products = [p for p in (await south.call("GET", "/products")).body["items"] if p["active"]][:2]
    await first.admin(
        session,
        "POST",
        "catalog/changes",
        json={"kind": "price", "productNumber": products[0]["productNumber"], "amount": "1.23"},
    )
    await south.call("PUT", "/webhook", json={"url": "http://127.0.0.1:1/hook", "secret": "persisted-secret-1"})
    order = (await south.create_order(order_body(products), key="persist-1")).body
    await south.advance("7m")
    await first.stop()
    first.check()

    second = SimServer(config)
    await second.start()
    try:
        again = await client_for(second, session, "10002")
        again.token = south.token
        assert (await again.call("GET", f"/orders/{order['orderId']}")).body["status"] == "PROCESSED"
        assert (await again.call("GET", "/webhook")).body["url"] == "http://127.0.0.1:1/hook"
        assert second.sim.hooks.registrations["10002"].secret == "persisted-secret-1"
        replay = await again.create_order(order_body(products), key="persist-1")
        assert replay.body["orderId"] == order["orderId"] and replay.headers["Idempotent-Replayed"] == "true"
        clock = await second.admin(session, "GET", "clock")
        assert clock["now"] == "2026-01-05T08:07:00.000Z"
        changed = (await again.call("GET", "/products", params={"q": products[0]["productNumber"]})).body["items"][0]
        assert changed["purchasePrice"]["amount"] == "1.23"
        await again.advance("10m")
        assert (await again.call("GET", f"/orders/{order['orderId']}")).body["status"] == "ACCEPTED"
        assert (await again.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")).body["totalItems"] == 1
        second_order = (await again.create_order(order_body(products, number="SO-2"))).body
        assert second_order["orderId"] == "ORD00000002"
    finally:
        await second.stop()
    second.check()


async def test_a_reset_forgets_every_order(db_url: str, session) -> None:
    server = SimServer(SimConfig(profile=parse_profile(PROFILE, base=None), db_url=db_url, strict=True))
    await server.start()
    try:
        north = await client_for(server, session, "10001")
        products = [p for p in (await north.call("GET", "/products")).body["items"] if p["active"]][:1]
        await north.create_order(order_body(products))
        await server.admin(session, "POST", "reset")
        assert (await north.call("GET", "/orders")).body["totalItems"] == 0
        assert (await north.call("GET", "/products")).body["totalItems"] == 40
    finally:
        await server.stop()
    server.check()
