"""The lifecycle checks: statuses move legally, orders are rejected for the right reason, only accepted ones ship."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from contracts.statuses import ACCEPTED, NEW, PROCESSED, REJECTED, illegal_step
from contracts.statuses import FINAL_STATUSES as FINAL
from scenarios.certify.checks.judging import before, instant, items_of
from scenarios.certify.fixtures import Followed, Placed, Shipment
from scenarios.certify.registry import CheckFailed, CheckSkipped, Context, NotObserved, check, expect

# What a reader polling now and then may see next: it can miss PROCESSED between two reads.
OBSERVABLE_MOVES = {
    NEW: {PROCESSED, REJECTED, ACCEPTED},
    PROCESSED: {ACCEPTED, REJECTED},
    REJECTED: set(),
    ACCEPTED: set(),
}


def _history(answer_fields: dict) -> list[dict]:
    history = answer_fields.get("statusHistory")
    return [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []


@check(
    "STATUS-01",
    "The statuses observed while waiting move only along legal paths, and a final status never changes",
    rules=["STATUS-R1", "STATUS-R2"],
)
async def status_path(ctx: Context, settled: dict[str, Followed]) -> None:
    for one in settled.values():
        for read in one.reads:
            if read.status != 200:
                continue
            history = [str(h.get("status")) for h in _history(read.fields)]
            expect(bool(history), f"order {one.placed.order_id} has an empty statusHistory", read, rules=["STATUS-R1"])
            step = illegal_step(history)
            illegally = f"order {one.placed.order_id}'s history moves illegally: {' -> '.join(history)}"
            expect(step is None, illegally, read, rules=["STATUS-R2" if step and step[1] in FINAL else "STATUS-R1"])
            status = read.fields.get("status")
            expect(
                history[-1] == status,
                f"order {one.placed.order_id} is {status} but its history ends in {history[-1]}",
                read,
                rules=["STATUS-R1"],
            )
        moves = [(a, b) for a, b in zip(one.statuses, one.statuses[1:], strict=False) if a != b]
        bad = next(((a, b) for a, b in moves if b not in OBSERVABLE_MOVES.get(a, set())), None)
        rule = "STATUS-R2" if bad and bad[0] in FINAL else "STATUS-R1"
        expect(bad is None, f"order {one.placed.order_id} was seen {one.seen}", *one.reads[-2:], rules=[rule])
    unsettled = [one for one in settled.values() if one.final is None]
    if unsettled:
        raise NotObserved("; ".join(one.waited_for("to reach a final status") for one in unsettled))
    for one in settled.values():  # once more: a final status stays
        again = await ctx.http.call("GET", f"/orders/{one.placed.order_id}")
        expect(
            again.fields.get("status") == one.final,
            f"order {one.placed.order_id} was {one.final}, and is now {again.fields.get('status')}",
            one.reads[-1],
            again,
            rules=["STATUS-R2"],
        )


@check(
    "STATUS-02",
    "An order's statusHistory is in time order, from its createdAt to no later than its updatedAt",
    rules=["STATUS-R3"],
)
async def history_times(ctx: Context, settled: dict[str, Followed]) -> None:
    if not any(len(_history(read.fields)) > 1 for one in settled.values() for read in one.reads):
        waited = max(one.waited_s for one in settled.values())
        seen = ", ".join(sorted({one.seen for one in settled.values()}))
        raise NotObserved(f"waited {waited:.0f} s; no order had a status change (seen: {seen}), so no history to order")
    for one in settled.values():
        for read in one.reads:
            history = _history(read.fields)
            if read.status != 200 or not history:
                continue
            stamps = [instant(h.get("at")) for h in history]
            times = [t for t in stamps if t is not None]
            if len(times) < len(stamps):
                continue  # a malformed timestamp is CONTRACT-01's to judge
            expect(times == sorted(times), f"order {one.placed.order_id}'s statusHistory is not in time order", read)
            created, updated = instant(read.fields.get("createdAt")), instant(read.fields.get("updatedAt"))
            expect(created == times[0], f"order {one.placed.order_id}'s createdAt is not its first entry's time", read)
            expect(
                updated is not None and updated >= times[-1],
                f"order {one.placed.order_id}'s updatedAt is before its last status change",
                read,
            )


def _rejected(reason: str, what: str, rule: str):  # type: ignore[no-untyped-def]
    async def judge(ctx: Context, rejections: dict[str, Placed], settled: dict[str, Followed]) -> None:
        placed = rejections.get(reason)
        if placed is None:
            raise CheckSkipped(f"the product list shows no {what.removeprefix('an ')}")
        expect(
            placed.order_id is not None,
            f"the order of {what} was refused at creation ({placed.answer.said}); it must be created and then "
            f"REJECTED with {reason}",
            placed.answer,
            rules=[rule],
        )
        one = settled[reason]
        if one.final is None:
            raise NotObserved(one.waited_for(f"to be REJECTED with {reason}"))
        expect(one.final == REJECTED, f"the order of {what} was {one.final}, not REJECTED", one.reads[-1], rules=[rule])
        code = (one.entry(REJECTED) or {}).get("reasonCode")
        expect(
            code is not None,
            f"the order of {what} was REJECTED without a reasonCode; it must be {reason}",
            one.reads[-1],
            rules=[rule, "REJECT-R4"],
        )
        expect(
            code == reason, f"the order of {what} was REJECTED with {code}, not {reason}", one.reads[-1], rules=[rule]
        )

    return judge


check("REJECT-01", "An order of an unknown product is REJECTED with UNKNOWN_PRODUCT", rules=["REJECT-R1", "REJECT-R4"])(
    _rejected("UNKNOWN_PRODUCT", "an unknown product", "REJECT-R1")
)
check(
    "REJECT-02", "An order of an inactive product is REJECTED with PRODUCT_INACTIVE", rules=["REJECT-R2", "REJECT-R4"]
)(_rejected("PRODUCT_INACTIVE", "an inactive product", "REJECT-R2"))
check(
    "REJECT-03",
    "An order in another container amount than the catalog's is REJECTED with CONTAINER_MISMATCH",
    rules=["REJECT-R3", "REJECT-R4"],
)(_rejected("CONTAINER_MISMATCH", "a container amount other than the catalog's", "REJECT-R3"))


@check(
    "ACCEPT-01",
    "An order of an active product in its container amount is not rejected for its product or containers",
    rules=["REJECT-R5"],
)
async def not_rejected(ctx: Context, settled: dict[str, Followed]) -> None:
    one = settled["accept"]
    if one.final is None:
        raise NotObserved(one.waited_for("to be ACCEPTED or REJECTED"))
    reason = (one.entry(REJECTED) or {}).get("reasonCode")
    expect(
        not (one.final == REJECTED and reason in ("UNKNOWN_PRODUCT", "PRODUCT_INACTIVE", "CONTAINER_MISMATCH")),
        f"an order of active product {one.placed.body['lines'][0]['productNumber']} in its container amount was "
        f"REJECTED with {reason}",
        one.reads[-1],
    )
    if one.final == REJECTED:
        ctx.notes.append(f"ACCEPT-01: the order to be accepted was REJECTED with {reason}; give the test account stock")


@check(
    "DISPATCH-01",
    "Dispatch notifications agree with the order and never ship more than was ordered",
    rules=["DISPATCH-R1", "DISPATCH-R2"],
)
async def dispatch(ctx: Context, shipment: Shipment) -> None:
    final, answer = shipment.order.last, shipment.answer
    ordered = {_number(line): line for line in items_of(final.get("lines"))}
    shipped: defaultdict[int | None, int] = defaultdict(int)
    for note in items_of(answer.fields.get("items")):
        expect(
            note.get("orderId") == final.get("orderId") and note.get("orderNumber") == final.get("orderNumber"),
            "a notification names another order",
            answer,
        )
        for line in items_of(note.get("lines")):
            mine = ordered.get(_number(line))
            expect(
                mine is not None and mine.get("productNumber") == line.get("productNumber"),
                f"a notification ships line {line.get('lineNumber')}, which the order does not have",
                answer,
            )
            quantity = line.get("quantity")
            shipped[_number(line)] += quantity if isinstance(quantity, int) else 0
    over = [n for n, q in shipped.items() if q > _quantity(ordered[n])]
    expect(not over, f"line(s) {over} are shipped beyond the ordered quantity", answer)


def _quantity(line: dict[str, Any]) -> int:
    quantity = line.get("quantity")
    return quantity if isinstance(quantity, int) else 0


def _number(line: dict[str, Any]) -> int | None:
    number = line.get("lineNumber")
    return number if isinstance(number, int) else None


@check(
    "DISPATCH-02",
    "Only an ACCEPTED order has dispatch notifications, none dispatched before it was accepted",
    rules=["DISPATCH-R3"],
)
async def dispatch_only_when_accepted(ctx: Context, settled: dict[str, Followed]) -> None:
    for one in settled.values():
        if one.early_dispatches:
            status = one.final or (one.statuses[-1] if one.statuses else "unread")
            raise CheckFailed(
                f"order {one.placed.order_id} ({one.placed.purpose}) has dispatch notifications while it is "
                f"{status} and was never ACCEPTED",
                one.early_dispatches[0],
            )
    accepted = settled["accept"]
    if accepted.final == ACCEPTED:
        at = instant((accepted.entry(ACCEPTED) or {}).get("at"))
        answer = await ctx.http.call("GET", f"/orders/{accepted.placed.order_id}/dispatch-notifications")
        notes = items_of(answer.fields.get("items"))
        early = [n for n in notes if at is not None and before(n.get("dispatchedAt"), at)]
        expect(not early, f"{len(early)} notification(s) were dispatched before the order was ACCEPTED", answer)
    if not any(one.unaccepted_reads and one.final is not None for one in settled.values()):
        waited = max(one.waited_s for one in settled.values())
        seen = ", ".join(sorted({one.seen for one in settled.values()}))
        raise NotObserved(
            f"waited {waited:.0f} s; no order was seen both before and after it settled (seen: {seen}), "
            "so no early notification could be told from a timely one"
        )
