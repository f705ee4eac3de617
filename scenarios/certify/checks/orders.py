"""The order checks: creation, what it holds, idempotent replay, key conflicts, bad input, and what is not there."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from scenarios.certify.checks.judging import is_problem, refusal_problem
from scenarios.certify.fixtures import Placed, Product, key, order_body
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import Blocked, Context, NotObserved, check, expect

LINE_FIELDS = ("lineNumber", "productNumber", "containers", "containerAmount", "quantity")


async def count_orders(ctx: Context) -> tuple[int, Exchange]:
    """The customer's number of orders; the list must be readable, or "creates nothing" cannot be shown."""
    answer = await ctx.http.call("GET", "/orders", params={"size": "1"})
    total = answer.fields.get("totalItems")
    if answer.status != 200 or not isinstance(total, int):
        raise Blocked(f"the order list {answer.said} without a totalItems, so no count can be compared")
    return total, answer


def differences(sent: dict[str, Any], held: dict[str, Any]) -> list[str]:
    """Where an order as the server holds it differs from the body sent."""
    wrong = [f"/{name}" for name in ("orderNumber", "orgUnit", "warehouse") if held.get(name) != sent[name]]
    lines = held.get("lines")
    if not isinstance(lines, list) or len(lines) != len(sent["lines"]):
        return [*wrong, "/lines"]
    for index, (mine, theirs) in enumerate(zip(sent["lines"], lines, strict=True)):
        theirs = theirs if isinstance(theirs, dict) else {}
        wrong += [f"/lines/{index}/{name}" for name in LINE_FIELDS if theirs.get(name) != mine[name]]
    return wrong


@check("ORDER-01", "An order is created: 201 and status NEW", rules=["ORDER-R1"])
async def create_order(ctx: Context, order: Placed) -> None:
    answer = order.answer
    expect(answer.status == 201, f"the order {answer.said}, not 201", answer)
    expect(answer.fields.get("status") == "NEW", f"the new order is {answer.fields.get('status')}, not NEW", answer)


@check(
    "ORDER-02", "A replay with the same Idempotency-Key returns the same order and creates nothing", rules=["ORDER-R4"]
)
async def replay(ctx: Context, order: Placed) -> None:
    before, listing = await count_orders(ctx)
    answer = await ctx.http.call("POST", "/orders", json=order.body, headers={"Idempotency-Key": order.key})
    expect(answer.status in (200, 201), f"the replay {answer.said}", answer)
    expect(
        answer.fields.get("orderId") == order.order_id,
        f"the replay answered order {answer.fields.get('orderId')}, not {order.order_id}",
        answer,
    )
    after, again = await count_orders(ctx)
    expect(after == before, f"the replay changed the number of orders from {before} to {after}", listing, answer, again)


@check("ORDER-03", "The same Idempotency-Key with another body gets 409 and creates nothing", rules=["ORDER-R6"])
async def key_conflict(ctx: Context, order: Placed, orderable: Product) -> None:
    before, listing = await count_orders(ctx)
    other = order_body(ctx, "other", [(orderable.number, 2, orderable.container_amount)])
    answer = await ctx.http.call("POST", "/orders", json=other, headers={"Idempotency-Key": order.key})
    expect(answer.status == 409, f"another body under a used key {answer.said}, not 409", answer)
    expect(is_problem(answer), "the 409 is not problem+json", answer)
    after, again = await count_orders(ctx)
    expect(after == before, f"the refused order changed the number of orders from {before} to {after}", listing, again)


def bad_orders(ctx: Context, product: Product) -> list[tuple[str, dict[str, Any] | bytes, str | None, str | None]]:
    """(case, body, Idempotency-Key, the JSON pointer the answer must name; None when nothing can be named)."""
    good = order_body(ctx, "bad", [(product.number, 1, product.container_amount)])
    line = good["lines"][0]
    return [
        ("no lines", {**good, "lines": []}, "bad-1", "/lines"),
        ("containers as a string", {**good, "lines": [{**line, "containers": "1"}]}, "bad-2", "/lines/0/containers"),
        (
            "quantity not containers x amount",
            {**good, "lines": [{**line, "quantity": line["quantity"] + 1}]},
            "bad-3",
            "/lines/0/quantity",
        ),
        ("an unknown field", {**good, "discount": "5%"}, "bad-4", "/discount"),
        ("no orderNumber", {k: v for k, v in good.items() if k != "orderNumber"}, "bad-5", "/orderNumber"),
        ("no Idempotency-Key", good, None, "/headers/idempotency-key"),
        ("broken JSON", b'{"orderNumber": ', "bad-7", None),
    ]


@check(
    "ORDER-04",
    "Bad orders get a 4xx problem naming the field, never a 5xx, and create nothing",
    rules=["ORDER-R7"],
)
async def bad_input(ctx: Context, orderable: Product) -> None:
    before, listing = await count_orders(ctx)
    wrong: list[str] = []
    evidence: list[Exchange] = []
    for case, body, idem, pointer in bad_orders(ctx, orderable):
        headers = {"Idempotency-Key": key(ctx, idem)} if idem else {}
        if isinstance(body, bytes):
            answer = await ctx.http.call(
                "POST", "/orders", data=body, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            answer = await ctx.http.call("POST", "/orders", json=body, headers=headers)
        why = refusal_problem(answer, case, pointer)
        if why is not None:
            wrong.append(why)
            evidence.append(answer)
    after, again = await count_orders(ctx)
    if after != before:
        wrong.append(f"bad orders changed the number of orders from {before} to {after}")
        evidence += [listing, again]
    expect(not wrong, "; ".join(wrong), *evidence[:5])


@check("ORDER-05", "The created order holds what was sent, and the key it was sent with", rules=["ORDER-R2"])
async def created_holds_what_was_sent(ctx: Context, order: Placed) -> None:
    wrong = differences(order.body, order.answer.fields)
    expect(not wrong, f"the created order differs from what was sent at {', '.join(wrong)}", order.answer)
    echoed = order.answer.fields.get("idempotencyKey")
    expect(
        echoed in (None, order.key), "the created order's idempotencyKey is not the key it was sent with", order.answer
    )


@check(
    "ORDER-06", "Idempotent-Replayed says false when the order is created and true on its replay", rules=["ORDER-R5"]
)
async def replayed_header(ctx: Context, order: Placed) -> None:
    first = (order.answer.header("Idempotent-Replayed") or "").lower()
    expect(first == "false", f"the creation says Idempotent-Replayed: {first or 'nothing'}, not false", order.answer)
    again = await ctx.http.call("POST", "/orders", json=order.body, headers={"Idempotency-Key": order.key})
    said = (again.header("Idempotent-Replayed") or "").lower()
    expect(said == "true", f"the replay says Idempotent-Replayed: {said or 'nothing'}, not true", again)


@check("ORDER-07", "The 201's Location names the created order", rules=["ORDER-R3"])
async def location(ctx: Context, order: Placed) -> None:
    named = order.answer.header("Location")
    expect(bool(named), "the 201 has no Location header", order.answer)
    url = urljoin(order.answer.url, named)
    # The run's credentials go only to the server under test, never to a host a header names.
    same = urlsplit(url)[:2] == urlsplit(order.answer.url)[:2]
    expect(same, "the Location names another server; the order's own server must serve it", order.answer)
    answer = await ctx.http.get_url(url)
    expect(
        answer.status == 200 and answer.fields.get("orderId") == order.order_id,
        f"GET of the Location {answer.said} and order {answer.fields.get('orderId')}, not {order.order_id}",
        order.answer,
        answer,
    )


@check("ORDER-08", "Reading the order back answers it as it was created", rules=["ORDER-R8"])
async def read_back(ctx: Context, order: Placed) -> None:
    answer = await ctx.http.call("GET", f"/orders/{order.order_id}")
    expect(answer.status == 200, f"GET of the created order {answer.said}", answer)
    expect(answer.fields.get("orderId") == order.order_id, f"GET answered order {answer.fields.get('orderId')}", answer)
    wrong = differences(order.body, answer.fields)
    expect(not wrong, f"the order read back differs from what was sent at {', '.join(wrong)}", answer)


@check(
    "NOTFOUND-01",
    "An order the customer does not have gets 404 problem+json, and so do its notifications",
    rules=["ORDER-R9"],
)
async def unknown_order(ctx: Context, access: Exchange) -> None:
    missing = f"certify-no-such-order-{ctx.target.run_id}"
    for path in (f"/orders/{missing}", f"/orders/{missing}/dispatch-notifications"):
        answer = await ctx.http.call("GET", path)
        expect(answer.status == 404, f"GET {path} {answer.said}, not 404", answer)
        expect(is_problem(answer), f"the 404 of GET {path} is not problem+json", answer)


@check("ERRORS-01", "Error answers name the rule broken, never the value sent", rules=["ERROR-R4"])
async def no_echo(ctx: Context, orderable: Product) -> None:
    canary = f"certify-canary-{ctx.rng.getrandbits(48):012x}"  # what must never come back
    good = order_body(ctx, "echo", [(orderable.number, 1, orderable.container_amount)])
    cases = [
        ("POST", "/orders", {**good, "lines": [{**good["lines"][0], "containers": canary}]}, None),
        ("POST", "/orders", {**good, "warehouse": {**good["warehouse"], "code": canary}}, None),
        ("GET", "/orders", None, {"status": canary}),
        ("GET", "/products", None, {"size": canary}),
    ]
    judged = []
    for method, path, body, params in cases:
        headers = {"Idempotency-Key": key(ctx, "echo")} if method == "POST" else None
        answer = await ctx.http.call(method, path, json=body, params=params, headers=headers)
        if answer.status is not None and answer.status >= 400:
            judged.append(answer)
            expect(
                canary.encode() not in answer.raw,
                f"the {answer.status} of {answer.endpoint} echoes the value sent",
                answer,
            )
    if not judged:
        raise NotObserved("no bad request was refused, so no error message could be judged")
