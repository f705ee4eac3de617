"""Every pair of state-changing actions on one cart and its unbooked order, run at once: the outcome is a serial one.

Each trial sets up a fresh warehouse whose cart holds A x 2 and B x 3 and whose unbooked order holds
C x 1 and D x 2, then sends two actions concurrently through the portal's HTTP API. The oracle is the
portal itself, run one action after the other on the same set-up: the concurrent answers and the
stored state must be those of one serial order (or of one action alone, the other refused with a
clean 409 conflict or 503 busy). That covers one winner, one Idempotency-Key per order (two Books
both answering 200 is no serial outcome), no lost line, and answers that agree with what is stored.
The suite runs it on SQLite, and on PostgreSQL when ORDERPORTAL_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from scenarios.drivers import Answer
from tests.conftest import Shop

ROUNDS = int(os.environ.get("ORDERPORTAL_CONCURRENCY_ROUNDS", "10"))  # each round runs every pair once
SEED = 1010


@dataclass(frozen=True, slots=True)
class Trial:
    """One fresh warehouse: its cart path, its unbooked order, and the product number of each role."""

    cart: str
    order_id: int
    roles: dict[str, str]  # product number -> A, B, C, D or E


Action = Callable[[Shop, Trial], Awaitable[Answer]]
PRODUCTS: dict[str, str] = {}  # role -> product number, matched to retailer products once


def _call(method: str, path: Callable[[Trial], str], body: Any = None) -> Action:
    async def act(shop: Shop, trial: Trial) -> Answer:
        return await shop.api.call(method, path(trial), body)

    return act


ACTIONS: dict[str, Action] = {
    "put": _call("PUT", lambda t: f"{t.cart}/lines/{PRODUCTS['E']}", {"containers": 4}),
    "take-out": _call("DELETE", lambda t: f"{t.cart}/lines/{PRODUCTS['B']}"),
    "update-products": _call("POST", lambda t: f"{t.cart}/update-products"),
    "create": _call("POST", lambda t: f"{t.cart}/create-stock-orders"),
    "edit": _call(
        "PATCH",
        lambda t: f"/api/stock-orders/{t.order_id}",
        {"lines": [{"lineNumber": 1, "containers": 7}], "note": "e"},
    ),
    "remove-line": _call("DELETE", lambda t: f"/api/stock-orders/{t.order_id}/lines/2"),
    "book": _call("POST", lambda t: f"/api/stock-orders/{t.order_id}/book"),
    "send": _call("POST", lambda t: f"/api/stock-orders/{t.order_id}/send"),
}
PAIRS = list(itertools.combinations_with_replacement(sorted(ACTIONS), 2))
LOST_RACE = ("409 conflict", "503 busy")  # a clean refusal that changed nothing


async def _matched_products(shop: Shop) -> None:
    """Five active supplier products, each with its retailer product: every cart line can be ordered."""
    await shop.open()
    active = [p["productNumber"] for p in await shop.products() if p["active"]][:5]
    PRODUCTS.update(zip("ABCDE", active, strict=True))
    for number in active:
        await shop.api.put_in_cart(shop.cart, number, 1)
    await shop.api.update_products(shop.cart)
    for number in active:
        await shop.api.ok("DELETE", f"{shop.cart}/lines/{number}")


async def _trial(shop: Shop, count: itertools.count[int]) -> Trial:
    house = await shop.api.create_warehouse(f"M-{next(count)}", "Matrix", shop.unit["id"])
    cart = f"/api/carts/{shop.supplier['id']}/{house['id']}"
    for role, containers in (("C", 1), ("D", 2)):
        await shop.api.put_in_cart(cart, PRODUCTS[role], containers)
    order = await shop.api.create_stock_orders(cart)
    for role, containers in (("A", 2), ("B", 3)):
        await shop.api.put_in_cart(cart, PRODUCTS[role], containers)
    return Trial(cart, order["id"], {number: role for role, number in PRODUCTS.items()})


def _order(trial: Trial, body: dict[str, Any]) -> tuple[Any, ...]:
    lines = tuple((x["lineNumber"], trial.roles[x["supplierProductNumber"]], x["containers"]) for x in body["lines"])
    which = "the order" if body["id"] == trial.order_id else "a new order"
    return which, body["state"], body["note"], lines, body["orderportal"]["status"]


def _answer(trial: Trial, answer: Answer) -> tuple[Any, ...]:
    """An answer without what differs from trial to trial: ids, numbers, keys, times."""
    assert answer.status < 500 or answer.problem == "503 busy", f"{answer.method} {answer.path}: {answer.problem}"
    body = answer.body
    if answer.status >= 400:
        return (answer.problem,)
    if "state" in body:
        return answer.status, _order(trial, body)
    if "lines" in body:
        return answer.status, tuple((trial.roles[x["productNumber"]], x["containers"]) for x in body["lines"])
    return answer.status, tuple(sorted(body.items()))


async def _stored(shop: Shop, trial: Trial, answers: list[Answer]) -> tuple[Any, ...]:
    """The cart and every order of the trial's warehouse as stored, checked against the supplier's orders."""
    cart = await shop.api.ok("GET", trial.cart)
    created = {a.body["id"] for a in answers if a.status < 300 and isinstance(a.body, dict) and "state" in a.body}
    orders = [await shop.api.stock_order(i) for i in sorted({trial.order_id} | created)]
    for order in orders:
        held = await shop.admin.orders("10001", order_number=order["number"])
        key = await shop.portal.state().idempotency_key(order["id"])
        assert (key is None) == (order["state"] == "UNBOOKED"), "a key from booking on, and only then"
        # One order at the supplier for a sent one, made with the key the portal holds for it.
        assert [h.idempotency_key for h in held] == ([key] if order["state"] == "SENT" else [])
    lines = tuple(sorted((trial.roles[x["productNumber"]], x["containers"]) for x in cart["lines"]))
    return lines, tuple(sorted(_order(trial, order) for order in orders))


async def _serially(shop: Shop, count: itertools.count[int], names: tuple[str, ...]) -> tuple[Any, ...]:
    trial = await _trial(shop, count)
    answers = [await ACTIONS[name](shop, trial) for name in names]
    return tuple(_answer(trial, a) for a in answers), await _stored(shop, trial, answers)


async def test_every_pair_of_actions_at_once_ends_as_one_serial_order_would(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    await _matched_products(shop)
    count = itertools.count(1)
    alone = {name: await _serially(shop, count, (name,)) for name in ACTIONS}
    serial: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for first, second in PAIRS:
        (one, other), stored = await _serially(shop, count, (first, second))
        outcomes = [((one, other), stored), ((other, one), stored)]  # the same action twice: either call first
        if first != second:
            (other, one), stored = await _serially(shop, count, (second, first))
            outcomes[1] = ((one, other), stored)
        # One action alone and the other a clean loser that changed nothing: as good as a serial order.
        ((one,), one_stored), ((other,), other_stored) = alone[first], alone[second]
        for refused in LOST_RACE:
            outcomes += [((one, (refused,)), one_stored), (((refused,), other), other_stored)]
        serial[(first, second)] = outcomes

    rng = random.Random(SEED)
    trials = 0
    for _ in range(ROUNDS):
        for first, second in rng.sample(PAIRS, len(PAIRS)):
            trial = await _trial(shop, count)
            answers = await asyncio.gather(ACTIONS[first](shop, trial), ACTIONS[second](shop, trial))
            seen = tuple(_answer(trial, a) for a in answers), await _stored(shop, trial, list(answers))
            assert seen in serial[(first, second)], f"{first} and {second} at once: {seen}"
            trials += 1
    with capsys.disabled():
        print(f"\nconcurrency matrix: {trials} trials of {len(PAIRS)} pairs, every one a serial outcome")
