"""Faults on demand: each rule hits what it matches, as often as it says, the same way every run."""

from __future__ import annotations

import aiohttp
import pytest

from supplier_sim.profile import Delay
from supplier_sim.seeding import draw, rng_for
from tests.helpers import SimClient, client_for


async def set_faults(client: SimClient, rules: list[dict]) -> None:
    await client.server.admin(client.session, "PUT", "faults", json=rules)


async def test_an_error_rule_hits_every_nth_matching_request_with_retry_after(north: SimClient) -> None:
    await set_faults(north, [{"kind": "error", "status": 503, "retryAfter": 7, "path": "/products", "every": 2}])
    answers = [await north.call("GET", "/products", params={"size": "1"}) for _ in range(4)]
    assert [a.status for a in answers] == [200, 503, 200, 503]
    assert answers[1].headers["Retry-After"] == "7" and answers[1].body["type"].endswith("injected-fault")
    assert (await north.call("GET", "/orders")).status == 200  # another path is not matched
    journal = (
        await north.server.admin(north.session, "GET", "journal", params={"path": "/api/v1/customers/10001/products"})
    )["items"]
    assert [e["fault"] for e in journal] == [None, "error 503", None, "error 503"]


async def test_a_rule_with_times_is_spent_after_that_many_hits_and_leaves_the_rest_to_the_next_rule(
    north: SimClient,
) -> None:
    rules = [
        {"kind": "error", "status": 500, "path": "/products", "times": 2},
        {"kind": "error", "status": 503, "path": "/products", "every": 2, "times": 1},
    ]
    await set_faults(north, rules)
    answers = [(await north.call("GET", "/products", params={"size": "1"})).status for _ in range(6)]
    # The 503 rule counts only what reaches it: the third and fourth requests, once the first rule is spent.
    assert answers == [500, 500, 200, 503, 200, 200]
    assert north.server.sim.faults.hits == [2, 1]
    await set_faults(north, rules)  # new rules: each count starts again
    assert (await north.call("GET", "/products")).status == 500


async def test_a_rate_draws_from_the_seed_so_a_run_replays_exactly(start_sim, session) -> None:
    runs = []
    for _ in range(2):
        server = await start_sim({"faults": [{"kind": "error", "status": 429, "retryAfter": 1, "rate": 0.5}]}, seed=11)
        client = await client_for(server, session, "10001")
        runs.append([(await client.call("GET", "/products", params={"size": "1"})).status for _ in range(12)])
    assert runs[0] == runs[1] and set(runs[0]) == {200, 429}


async def test_a_rule_for_one_customer_spares_the_others(north: SimClient, east: SimClient) -> None:
    await set_faults(north, [{"kind": "error", "status": 500, "customer": "10003"}])
    assert (await north.call("GET", "/products")).status == 200
    assert (await east.call("GET", "/products")).status == 500


async def test_a_reset_drops_the_connection_without_an_answer(north: SimClient) -> None:
    await set_faults(north, [{"kind": "reset", "method": "POST"}])
    with pytest.raises(aiohttp.ClientError):
        await north.call("POST", "/orders", json={}, headers={"Idempotency-Key": "k"})
    assert (await north.call("GET", "/orders")).body["totalItems"] == 0


async def test_a_truncated_answer_is_cut_short(north: SimClient) -> None:
    await set_faults(north, [{"kind": "truncate", "path": "/products"}])
    url = f"{north.base}/products"
    async with north.session.get(url, headers=north.auth_headers()) as response:
        body = await response.read()
    with pytest.raises(ValueError):
        __import__("json").loads(body)


async def test_a_hang_gives_no_answer_until_the_client_times_out(north: SimClient) -> None:
    await set_faults(north, [{"kind": "hang", "hang": "2s", "path": "/orders"}])
    with pytest.raises(TimeoutError):
        async with north.session.get(
            f"{north.base}/orders", headers=north.auth_headers(), timeout=aiohttp.ClientTimeout(total=0.3)
        ):
            pass


async def test_a_log_normal_latency_rule_slows_the_matching_requests_by_its_seeded_draw(north: SimClient) -> None:
    latency = {"median": "5ms", "sigma": 0.5, "max": "20ms"}
    await set_faults(north, [{"kind": "latency", "latency": latency, "path": "/products"}])
    assert (await north.call("GET", "/products", params={"size": "1"})).status == 200
    journal = await north.server.admin(
        north.session, "GET", "journal", params={"path": "/api/v1/customers/10001/products"}
    )
    (entry,) = journal["items"]
    expected = draw(Delay.parse(latency), rng_for(north.server.sim.seed, "latency", "/products", 1))
    assert entry["fault"] == "latency" and 1 <= expected <= 20 and entry["durationMs"] >= expected


async def test_a_latency_that_cannot_be_drawn_is_refused_naming_the_field(north: SimClient) -> None:
    for latency, why in (
        ({"median": "2m", "sigma": 1}, "below its median"),
        ({"min": "2s", "max": "1s"}, "below its min"),
    ):
        rules = [{"kind": "error"}, {"kind": "latency", "latency": latency}]
        async with north.session.put(f"{north.server.url}/_sim/faults", json=rules) as response:
            body = await response.json(content_type=None)
        assert response.status == 422 and body["errors"][0]["pointer"] == "/1/latency" and why in body["detail"]


async def test_fault_rules_are_checked_against_their_contract(north: SimClient) -> None:
    async with north.session.put(f"{north.server.url}/_sim/faults", json=[{"kind": "meteor"}]) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and body["errors"][0]["pointer"] == "/0/kind"
    async with north.session.put(f"{north.server.url}/_sim/faults", json=[{"kind": "reset", "times": 0}]) as response:
        body = await response.json(content_type=None)
        assert response.status == 422 and body["errors"][0]["pointer"] == "/0/times"
