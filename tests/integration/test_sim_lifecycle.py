"""The lifecycle engine: delays on the virtual clock, rejection reasons, legal moves, dispatch sums."""

from __future__ import annotations

from collections import Counter

import pytest

from contracts.statuses import illegal_step
from supplier_sim import SimServer
from tests.helpers import SimClient, client_for, order_body

FAST = {
    "lifecycle": {"processingDelay": "5m", "acceptanceDelay": "10m"},
    "dispatch": {"delay": "1m", "interval": "1h", "notifications": 1},
}


async def active_products(client: SimClient, count: int = 2) -> list[dict]:
    items = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    return [p for p in items if p["active"]][:count]


async def statuses(client: SimClient, order_id: str) -> list[str]:
    order = (await client.call("GET", f"/orders/{order_id}")).body
    return [h["status"] for h in order["statusHistory"]]


async def test_an_order_moves_new_processed_accepted_on_the_profiles_delays(start_sim, session) -> None:
    client = await client_for(await start_sim(FAST), session, "10001")
    order = (await client.create_order(order_body(await active_products(client)))).body
    await client.advance("4m")
    assert await statuses(client, order["orderId"]) == ["NEW"]
    await client.advance("1m")
    assert await statuses(client, order["orderId"]) == ["NEW", "PROCESSED"]
    await client.advance("10m")
    final = (await client.call("GET", f"/orders/{order['orderId']}")).body
    assert [h["status"] for h in final["statusHistory"]] == ["NEW", "PROCESSED", "ACCEPTED"]
    assert [h["at"][11:19] for h in final["statusHistory"]] == ["08:00:00", "08:05:00", "08:15:00"]


async def reject_reason(client: SimClient, body: dict) -> tuple[list[str], str, str]:
    order = (await client.create_order(body)).body
    await client.advance("1h")
    final = (await client.call("GET", f"/orders/{order['orderId']}")).body
    last = final["statusHistory"][-1]
    return [h["status"] for h in final["statusHistory"]], last.get("reasonCode", ""), last.get("message", "")


async def test_each_reason_code_rejects_a_well_formed_order_that_cannot_be_fulfilled(start_sim, session) -> None:
    server = await start_sim(
        {
            **FAST,
            "minimumOrderValue": "50.00",
            "rejection": {
                "rules": [{"reasonCode": "OTHER", "orderNumber": "^VOID-", "message": "cancelled by the supplier"}]
            },
        }
    )
    client = await client_for(server, session, "10001")
    items = (await client.call("GET", "/products", params={"size": "60"})).body["items"]
    active = [p for p in items if p["active"]]
    await server.admin(
        session, "POST", "catalog/changes", json={"kind": "withdraw", "productNumber": active[5]["productNumber"]}
    )
    big = order_body(active[:2], containers=50)
    server.sim.stock[active[7]["productNumber"]] = 3

    unknown = order_body(active[:1], containers=50)
    unknown["lines"][0]["productNumber"] = "NO-SUCH-PRODUCT"
    mismatch = order_body(active[:1], containers=50)
    amount = active[0]["containerAmount"] + 1
    mismatch["lines"][0] |= {"containerAmount": amount, "quantity": 50 * amount}
    cheapest = min(active, key=lambda p: float(p["purchasePrice"]["amount"]) * p["containerAmount"])
    cheap = order_body([cheapest], containers=1)  # one container of the cheapest: under 50.00
    cases = {
        "UNKNOWN_PRODUCT": (client, unknown),
        "PRODUCT_INACTIVE": (client, order_body([active[5]], containers=50)),
        "CONTAINER_MISMATCH": (client, mismatch),
        "OUT_OF_STOCK": (client, order_body([active[7]], containers=50)),
        "BELOW_MINIMUM_ORDER_VALUE": (client, cheap),
        "CUSTOMER_BLOCKED": (await client_for(server, session, "10004"), big),
        "OTHER": (client, {**big, "orderNumber": "VOID-1"}),
    }
    for reason, (who, body) in cases.items():
        path, code, message = await reject_reason(who, body)
        expected = ["NEW", "PROCESSED", "REJECTED"] if reason == "OUT_OF_STOCK" else ["NEW", "REJECTED"]
        assert (path, code) == (expected, reason), message
        assert message
    assert (await reject_reason(client, big))[0] == ["NEW", "PROCESSED", "ACCEPTED"]


async def test_a_seeded_random_rejection_rate_gives_the_same_rejections_every_run(start_sim, session) -> None:
    outcomes = []
    for _ in range(2):
        server = await start_sim({**FAST, "rejection": {"randomRate": 0.5}}, seed=7)
        client = await client_for(server, session, "10001")
        products = await active_products(client)
        ids = [(await client.create_order(order_body(products, number=f"SO-{i}"))).body["orderId"] for i in range(12)]
        await client.advance("1h")
        outcomes.append([(await statuses(client, i))[-1] for i in ids])
    assert outcomes[0] == outcomes[1]
    assert Counter(outcomes[0]).keys() == {"ACCEPTED", "REJECTED"}


@pytest.mark.parametrize(
    ("moves", "legal"),
    [
        (["PROCESSED", "ACCEPTED"], [True, True]),
        (["REJECTED", "PROCESSED"], [True, False]),
        (["ACCEPTED"], [False]),
        (["PROCESSED", "NEW"], [True, False]),
        (["PROCESSED", "REJECTED", "ACCEPTED"], [True, True, False]),
    ],
)
async def test_forced_transitions_follow_the_legal_moves_and_an_illegal_one_gets_409(
    north: SimClient, moves: list[str], legal: list[bool]
) -> None:
    products = await active_products(north)
    order = (await north.create_order(order_body(products))).body
    for move, ok in zip(moves, legal, strict=True):
        before = await statuses(north, order["orderId"])
        async with north.session.post(
            f"{north.server.url}/_sim/orders/{order['orderId']}/transition", json={"status": move}
        ) as response:
            body = await response.json(content_type=None)
            assert (response.status == 200) is ok, body
            if not ok:
                assert response.status == 409 and response.content_type == "application/problem+json"
                assert await statuses(north, order["orderId"]) == before
    assert illegal_step(await statuses(north, order["orderId"])) is None


async def test_a_partial_dispatch_sends_several_notifications_that_add_up_to_the_order(start_sim, session) -> None:
    server = await start_sim({**FAST, "dispatch": {"notifications": 3, "delay": "1m", "interval": "2h"}})
    client = await client_for(server, session, "10001")
    body = order_body(await active_products(client, 3), containers=7)
    order = (await client.create_order(body)).body
    await client.advance("20m")
    first = (await client.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")).body
    assert first["totalItems"] == 1
    await client.advance("5h")
    notes = (await client.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")).body["items"]
    assert len(notes) == 3
    sent = Counter()
    for note in notes:
        assert note["orderId"] == order["orderId"] and note["orderNumber"] == "SO-1"
        for line in note["lines"]:
            sent[line["lineNumber"]] += line["quantity"]
    assert sent == {line["lineNumber"]: line["quantity"] for line in body["lines"]}


async def test_a_short_shipment_sends_less_than_ordered_and_never_more(start_sim, session) -> None:
    server = await start_sim({**FAST, "dispatch": {"shortShipmentRate": 1.0, "delay": "1m"}})
    client = await client_for(server, session, "10001")
    body = order_body(await active_products(client, 3), containers=5)
    order = (await client.create_order(body)).body
    await client.advance("1h")
    notes = (await client.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")).body["items"]
    sent = Counter()
    for note in notes:
        for line in note["lines"]:
            sent[line["lineNumber"]] += line["quantity"]
    ordered = {line["lineNumber"]: line["quantity"] for line in body["lines"]}
    assert notes and all(0 < sent[n] < q for n, q in ordered.items())


async def test_an_admin_dispatch_beyond_the_ordered_quantity_gets_409(start_sim, session) -> None:
    server = await start_sim({**FAST, "dispatch": {"delay": "10h"}})
    client = await client_for(server, session, "10001")
    body = order_body(await active_products(client, 1), containers=2)
    order = (await client.create_order(body)).body
    await client.advance("1h")
    url = f"{server.url}/_sim/orders/{order['orderId']}/dispatch"
    quantity = body["lines"][0]["quantity"]
    async with session.post(url, json={"lines": [{"lineNumber": 1, "quantity": quantity - 1}]}) as response:
        assert response.status == 201
    async with session.post(url, json={"lines": [{"lineNumber": 1, "quantity": 2}]}) as response:
        assert response.status == 409 and "1 of" in (await response.json(content_type=None))["detail"]
    async with session.post(url, json={}) as response:
        assert response.status == 201
        assert (await response.json())["lines"] == [
            {"lineNumber": 1, "productNumber": body["lines"][0]["productNumber"], "quantity": 1}
        ]
    await client.advance("12h")  # the scheduled notification finds nothing left to send
    notes = (await client.call("GET", f"/orders/{order['orderId']}/dispatch-notifications")).body
    assert notes["totalItems"] == 2


async def test_the_virtual_clock_never_goes_back(sim: SimServer, session) -> None:
    async with session.post(f"{sim.url}/_sim/clock/advance", json={"to": "2020-01-01T00:00:00Z"}) as response:
        assert response.status == 422
    async with session.post(f"{sim.url}/_sim/clock/advance", json={"by": "soon"}) as response:
        assert response.status == 422
