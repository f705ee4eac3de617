"""The lifecycle checks: the order's status moves legally, and its dispatches match what was ordered."""

from __future__ import annotations

from collections import defaultdict

from contracts.statuses import FINAL_STATUSES, illegal_step
from scenarios.certify.checks.shared import need_order
from scenarios.certify.registry import CheckSkipped, Context, check, expect


@check("STATUS-01", "The statuses observed while waiting move only along legal paths")
async def status_path(ctx: Context) -> None:
    order = need_order(ctx)
    seen = [order["status"]]
    waited, answer = 0.0, None
    while waited <= ctx.target.wait_s:
        answer = await ctx.http.call("GET", f"/orders/{order['orderId']}")
        expect(answer.status == 200, f"reading the order answered {answer.status}", answer)
        history = [h.get("status") for h in answer.body.get("statusHistory", [])]
        expect(bool(history), "the order has an empty statusHistory", answer)
        step = illegal_step(history)
        expect(step is None, f"the order's history moves illegally: {' -> '.join(map(str, history))}", answer)
        expect(
            history[-1] == answer.body.get("status"),
            f"the order is {answer.body.get('status')} but its history ends in {history[-1]}",
            answer,
        )
        if answer.body.get("status") != seen[-1]:
            seen.append(answer.body["status"])
            step = illegal_step(seen)
            expect(
                step is None or (step[1] == "NEW" and step[2] == "ACCEPTED"), f"observed {' -> '.join(seen)}", answer
            )
        expect(
            not (seen[-1] in FINAL_STATUSES and len(seen) > 1 and seen[-2] in FINAL_STATUSES),
            "a final status changed",
            answer,
        )
        if answer.body.get("status") in FINAL_STATUSES:
            break
        await ctx.sleep(ctx.target.poll_s)
        waited += ctx.target.poll_s
    ctx.found["final"] = answer.body if answer is not None else order
    if seen[-1] not in FINAL_STATUSES:
        ctx.notes.append(f"order {order['orderId']} was still {seen[-1]} after waiting {ctx.target.wait_s:.0f} s")


@check("DISPATCH-01", "Dispatch notifications agree with the order and never ship more than was ordered")
async def dispatch(ctx: Context) -> None:
    final = ctx.found.get("final") or {}
    if final.get("status") != "ACCEPTED":
        raise CheckSkipped(f"the order was not ACCEPTED within the wait (it is {final.get('status')})")
    waited, path = 0.0, f"/orders/{final['orderId']}/dispatch-notifications"
    answer = await ctx.http.call("GET", path)
    while answer.status == 200 and not answer.body.get("items") and waited < ctx.target.wait_s:
        await ctx.sleep(ctx.target.poll_s)  # accepted means shipped: the notification may follow a little later
        waited += ctx.target.poll_s
        answer = await ctx.http.call("GET", path)
    expect(answer.status == 200, f"the dispatch notifications answered {answer.status}", answer)
    if not answer.body.get("items"):
        raise CheckSkipped(f"no dispatch notification arrived within {ctx.target.wait_s:.0f} s")
    ordered = {line["lineNumber"]: line for line in final["lines"]}
    shipped: defaultdict[int, int] = defaultdict(int)
    for note in answer.body.get("items", []):
        expect(
            note.get("orderId") == final["orderId"] and note.get("orderNumber") == final["orderNumber"],
            "a notification names another order",
            answer,
        )
        for line in note.get("lines", []):
            mine = ordered.get(line.get("lineNumber"))
            expect(
                mine is not None and mine["productNumber"] == line.get("productNumber"),
                f"a notification ships line {line.get('lineNumber')}, which the order does not have",
                answer,
            )
            shipped[line["lineNumber"]] += line.get("quantity", 0)
    over = [n for n, q in shipped.items() if q > ordered[n]["quantity"]]
    expect(not over, f"line(s) {over} are shipped beyond the ordered quantity", answer)
