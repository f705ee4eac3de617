"""The matrix's columns: each flow driven through the portal's API while a fault is on, told as the user sees it.

Each flow sets up what it needs with no fault, turns the fault on, acts, lifts the fault and finishes
as a user (or the worker) would. Its outcome is made from what it observed, in a few fixed words:
"ok", "ok after retry", "<status> <problem>", "202 queued in outbox", "by webhook", "caught up by
polling", "poll failed; caught up once lifted", and what the webhook log shows on the way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from scenarios.faultmatrix.world import World

STATUS_EVENT, DISPATCH_EVENT = "order.status_changed", "dispatch_notification.created"


@dataclass(frozen=True, slots=True)
class Flow:
    """A column. A flow that follows a sent order receives ``event`` webhooks; the others receive none."""

    name: str
    run: Callable[[World], Awaitable[str]]
    event: str | None = None


def _ok(world: World) -> str:
    return "ok after retry" if world.failed_requests else "ok"


async def _told(world: World, said: list[str]) -> str:
    """The outcome in words, with any contract violation the portal kept on the way."""
    kept = len(await world.violations())
    if kept:
        said.append(f"{kept} contract violation{'s' if kept > 1 else ''} kept")
    return "; ".join(said)


async def coupling(world: World) -> str:
    await world.shop()
    path = f"/api/customer-numbers/{world.customer['id']}"
    await world.fault_on()
    first = await world.call("POST", world.couple_path)
    await world.fault_off()
    if first.status == 200:
        said = [_ok(world)]
    else:
        state = (await world.ok("GET", path))["state"]
        said = [first.problem, "still uncoupled" if state == "UNCOUPLED" else f"now {state}"]
        again = await world.call("POST", world.couple_path)
        said.append("ok when tried again" if again.status == 200 else f"{again.problem} when tried again")
    customer = await world.ok("GET", path)
    if customer["state"] != "COUPLED" or not customer["webhook"]:
        said.append(f"ends {customer['state']}" + ("" if customer["webhook"] else " without a webhook"))
    return await _told(world, said)


async def catalog_import(world: World) -> str:
    await world.coupled()
    everything = await world.products_at_supplier()
    await world.fault_on()
    first = await world.call("POST", "/api/orderportal/open", world.open_body)
    await world.fault_off()
    if first.status == 200:
        said = [_ok(world)]
    else:
        held = await world.catalog_size()
        said = [first.problem, "nothing imported" if held == 0 else f"{held} imported"]
        again = await world.call("POST", "/api/orderportal/open", world.open_body)
        said.append("ok when tried again" if again.status == 200 else f"{again.problem} when tried again")
    held = await world.catalog_size()
    if held != everything:
        said.append(f"holds {held} of {everything} products")
    return await _told(world, said)


async def send(world: World) -> str:
    order = await world.booked()
    path = f"/api/stock-orders/{order['id']}"
    await world.fault_on()
    first = await world.call("POST", f"{path}/send")
    await world.fault_off()
    if first.status == 200:
        said = [_ok(world)]
    elif first.status == 202:
        queued = [entry["stockOrderId"] for entry in (await world.ok("GET", "/api/outbox"))["items"]]
        said = ["202 queued in outbox" if order["id"] in queued else "202 but not in the outbox"]
        counts = await world.ok("POST", "/api/outbox/deliver")
        held = await world.at_supplier(order["number"])
        said.append("sent once on delivery" if counts["sent"] == 1 and held == 1 else f"{counts}, {held} at supplier")
    else:
        said = [first.problem, f"still {(await world.order(order['id']))['state'].lower()}"]
        again = await world.call("POST", f"{path}/send")
        said.append("ok when tried again" if again.status == 200 else f"{again.problem} when tried again")
    return await _told(world, said)


async def tracking(world: World) -> str:
    """The supplier moves a sent order NEW -> PROCESSED -> ACCEPTED on its clock; the portal follows."""
    order = await world.sent()

    async def history() -> tuple[str, ...]:
        return tuple(h["status"] for h in (await world.order(order["id"]))["orderportal"]["history"])

    async def act() -> None:
        await world.advance("1h")  # processed after 5 min, accepted 10 min later

    return await _follow(world, act, history, lambda seen: seen[-1:] == ("ACCEPTED",), "older event ignored")


async def dispatch(world: World) -> str:
    """The supplier dispatches an accepted order in two parts; the portal must end up holding both."""
    order = await world.accepted()
    line = order["lines"][0]
    supplier_order_id = order["orderportal"]["supplierOrderId"]
    shipped: list[str] = []

    async def act() -> None:
        half = line["quantity"] // 2
        for quantity in (half, line["quantity"] - half):
            body = {"lines": [{"lineNumber": line["lineNumber"], "quantity": quantity}]}
            await world.admin.dispatch(supplier_order_id, body)
        shipped.extend(await world.notes_at_supplier(supplier_order_id))
        await world.advance("1m")  # the supplier's first webhook retry is 10 s after a failed attempt

    async def held() -> tuple[str, ...]:
        return await world.notes(order["id"])

    return await _follow(world, act, held, lambda seen: seen == tuple(shipped), "out of order, both kept")


async def _follow(
    world: World,
    act: Callable[[], Awaitable[None]],
    seen: Callable[[], Awaitable[tuple[str, ...]]],
    done: Callable[[tuple[str, ...]], bool],
    reordered: str,
) -> str:
    """How the portal learns what the supplier did: by webhook, by the worker's catch-up, or only after the fault."""
    await world.fault_on()
    await act()
    pushed = await seen()
    await world.sync()
    polled = await seen()
    await world.fault_off()
    await world.advance("3h")  # late and held events arrive, retries run out
    later = await seen()
    await world.sync()
    final = await seen()
    log = await world.deliveries()
    if done(pushed):
        retried = any(d["attempts"] > 1 for d in log)
        said = ["by webhook on the supplier's retry" if retried else "by webhook"]
    elif done(polled):
        said = [f"caught up by polling{' after retry' if world.failed_requests else ''}"]
    elif done(final):
        said = ["poll failed; caught up once lifted"]
    else:
        said = [f"never caught up: {', '.join(final) or 'nothing'}"]
    said += _webhook_facts(log, pushed, polled, later, done, reordered)
    return await _told(world, said)


def _webhook_facts(
    log: list[dict[str, Any]],
    pushed: tuple[str, ...],
    polled: tuple[str, ...],
    later: tuple[str, ...],
    done: Callable[[tuple[str, ...]], bool],
    reordered: str,
) -> list[str]:
    """What the webhook faults did to what the portal shows."""
    facts = []
    faults = {d["fault"] for d in log}
    if "duplicate" in faults:
        facts.append("duplicate ignored" if len(set(later)) == len(later) else "duplicate applied twice")
    if any(_overtaken(d, log) for d in log):
        facts.append(reordered if done(pushed) else "out of order, then wrong")
    if "late" in faults and any(d["deliveredAt"] for d in log):
        facts.append("late events ignored" if later == polled else "late events changed it")
    refused = sorted({d["lastStatus"] for d in log if (d["lastStatus"] or 0) >= 300})
    if refused:
        facts.append(f"portal refused events with {', '.join(map(str, refused))}")
    return facts


def _overtaken(event: dict[str, Any], log: list[dict[str, Any]]) -> bool:
    """Whether a held event was overtaken: a later one (ids end in the supplier's sequence) arrived first."""
    arrived = event["deliveredAt"]
    return (
        event["fault"] == "reorder"
        and arrived is not None
        and any(
            other["eventId"] > event["eventId"] and other["deliveredAt"] and other["deliveredAt"] <= arrived
            for other in log
        )
    )


FLOWS: tuple[Flow, ...] = (
    Flow("coupling", coupling),
    Flow("catalog import", catalog_import),
    Flow("send", send),
    Flow("status tracking", tracking, STATUS_EVENT),
    Flow("dispatch", dispatch, DISPATCH_EVENT),
)
