"""The order checks: creation, idempotent replay, key conflicts, and bad input that creates nothing."""

from __future__ import annotations

from typing import Any

from scenarios.certify.checks.shared import is_problem, key, need_order, order_body
from scenarios.certify.recorder import Exchange
from scenarios.certify.registry import Context, check, expect


async def count_orders(ctx: Context) -> tuple[int, Exchange]:
    """The customer's number of orders; the list must be readable, or "creates nothing" cannot be shown."""
    answer = await ctx.http.call("GET", "/orders", params={"size": "1"})
    total = answer.body.get("totalItems") if isinstance(answer.body, dict) else None
    expect(answer.status == 200 and isinstance(total, int), f"the order list answered {answer.status}", answer)
    return int(total or 0), answer


@check("ORDER-01", "An order is created: 201 and status NEW")
async def create_order(ctx: Context) -> None:
    body = order_body(ctx, f"CERT-{ctx.target.run_id}-1")
    answer = await ctx.http.call("POST", "/orders", json=body, headers={"Idempotency-Key": key(ctx, "1")})
    expect(answer.status == 201, f"the order answered {answer.status}, not 201", answer)
    expect(answer.body.get("status") == "NEW", f"the new order is {answer.body.get('status')}, not NEW", answer)
    ctx.found["order"], ctx.found["order_body"] = answer.body, body


@check("ORDER-02", "A replay with the same Idempotency-Key returns the same order and creates nothing")
async def replay(ctx: Context) -> None:
    order = need_order(ctx)
    before, listing = await count_orders(ctx)
    answer = await ctx.http.call(
        "POST", "/orders", json=ctx.found["order_body"], headers={"Idempotency-Key": key(ctx, "1")}
    )
    expect(answer.status in (200, 201), f"the replay answered {answer.status}", answer)
    expect(
        answer.body.get("orderId") == order["orderId"],
        f"the replay made order {answer.body.get('orderId')}, not {order['orderId']}",
        answer,
    )
    after, again = await count_orders(ctx)
    expect(after == before, f"the replay changed the number of orders from {before} to {after}", listing, answer, again)


@check("ORDER-03", "The same Idempotency-Key with another body gets 409 and creates nothing")
async def key_conflict(ctx: Context) -> None:
    need_order(ctx)
    before, listing = await count_orders(ctx)
    other = order_body(ctx, f"CERT-{ctx.target.run_id}-other", containers=2)
    answer = await ctx.http.call("POST", "/orders", json=other, headers={"Idempotency-Key": key(ctx, "1")})
    expect(answer.status == 409, f"another body under a used key answered {answer.status}, not 409", answer)
    expect(is_problem(answer), "the 409 is not problem+json", answer)
    after, again = await count_orders(ctx)
    expect(after == before, f"the refused order changed the number of orders from {before} to {after}", listing, again)


def bad_orders(ctx: Context) -> list[tuple[str, dict[str, Any] | bytes, str | None, str | None]]:
    """(case, body, Idempotency-Key, the JSON pointer the answer must name; None when nothing can be named)."""
    good = order_body(ctx, f"CERT-{ctx.target.run_id}-bad")
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


@check("ORDER-04", "Bad orders get a 4xx problem naming the field, never a 5xx, and create nothing")
async def bad_input(ctx: Context) -> None:
    before, listing = await count_orders(ctx)
    wrong: list[str] = []
    evidence: list[Exchange] = []
    for case, body, idem, pointer in bad_orders(ctx):
        headers = {"Idempotency-Key": key(ctx, idem)} if idem else {}
        if isinstance(body, bytes):
            answer = await ctx.http.call(
                "POST", "/orders", data=body, headers={**headers, "Content-Type": "application/json"}
            )
        else:
            answer = await ctx.http.call("POST", "/orders", json=body, headers=headers)
        named = [str(e.get("pointer", "")).lower() for e in answer.body.get("errors", [])] if is_problem(answer) else []
        if not (answer.status is not None and 400 <= answer.status < 500):
            wrong.append(f"{case}: answered {answer.status}, not a 4xx")
        elif not is_problem(answer):
            wrong.append(f"{case}: the {answer.status} is not problem+json")
        elif pointer is not None and pointer.lower() not in named:  # header names are case-insensitive
            wrong.append(f"{case}: errors name {named or 'nothing'}, not {pointer}")
        else:
            continue
        evidence.append(answer)
    after, again = await count_orders(ctx)
    if after != before:
        wrong.append(f"bad orders changed the number of orders from {before} to {after}")
        evidence += [listing, again]
    expect(not wrong, "; ".join(wrong), *evidence[:5])
