"""Random valid orders, clock advances and forced transitions only ever give legal histories."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import contracts
from contracts.statuses import STATUSES, illegal_step
from contracts.wire import parse_timestamp
from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile
from tests.helpers import SimClient, order_body

PROFILE = {
    "catalog": {"size": 12, "changes": [{"at": "40m", "kind": "withdraw", "count": 2}]},
    "lifecycle": {"processingDelay": {"min": "1m", "max": "30m"}, "acceptanceDelay": {"min": "1m", "max": "1h"}},
    "rejection": {"randomRate": 0.2},
    "dispatch": {"notifications": {"min": 1, "max": 3}, "shortShipmentRate": 0.3, "delay": "5m", "interval": "20m"},
}

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.lists(st.integers(0, 11), min_size=1, max_size=4, unique=True),
            st.integers(1, 9),
            st.booleans(),  # send the line numbers as 1.0, 2.0, which JSON Schema counts as integers
        ),
        st.tuples(st.just("advance"), st.integers(1, 7200)),
        st.tuples(st.just("force"), st.integers(0, 20), st.sampled_from(STATUSES)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_random_runs_give_only_legal_histories_and_contract_valid_answers(steps: list[tuple[Any, ...]]) -> None:
    with asyncio.Runner() as runner:
        runner.run(_run(steps))


async def _run(steps: list[tuple[Any, ...]]) -> None:
    async with (
        SimServer(SimConfig(profile=parse_profile(PROFILE, base=None), strict=True)) as server,
        aiohttp.ClientSession() as session,
    ):
        customer = server.config.profile.customer("10001")
        assert customer is not None
        client = SimClient(server, session, customer)
        products = (await client.call("GET", "/products")).body["items"]
        ids: list[str] = []
        for step in steps:
            if step[0] == "order":
                body = order_body([products[i] for i in step[1]], number=f"SO-{len(ids)}", containers=step[2])
                if step[3]:
                    body["lines"] = [{**line, "lineNumber": float(line["lineNumber"])} for line in body["lines"]]
                answer = await client.create_order(body)
                assert answer.status == 201 and answer.body["status"] == "NEW"
                ids.append(answer.body["orderId"])
            elif step[0] == "advance":
                await client.advance(f"{step[1]}s")
            elif ids:
                order_id = ids[step[1] % len(ids)]
                async with session.post(
                    f"{server.url}/_sim/orders/{order_id}/transition", json={"status": step[2]}
                ) as response:
                    assert response.status in (200, 409)
        await client.advance("1d")
        for order_id in ids:
            order = (await client.call("GET", f"/orders/{order_id}")).body
            history = order["statusHistory"]
            assert illegal_step([h["status"] for h in history]) is None, history
            times = [parse_timestamp(h["at"]) for h in history]
            assert times == sorted(times)
            assert order["status"] in ("ACCEPTED", "REJECTED")  # a day is past every delay of the profile
            notes = (
                await client.call("GET", f"/orders/{order_id}/dispatch-notifications", params={"size": "1000"})
            ).body
            contracts().validate("dispatch-notification-page", notes)
            ordered = {line["lineNumber"]: line["quantity"] for line in order["lines"]}
            sent: dict[int, int] = {}
            for note in notes["items"]:
                for line in note["lines"]:
                    sent[line["lineNumber"]] = sent.get(line["lineNumber"], 0) + line["quantity"]
            assert all(sent[n] <= ordered[n] for n in sent)
            if order["status"] == "REJECTED":
                assert not notes["items"] and "reasonCode" in history[-1]
    server.check()
