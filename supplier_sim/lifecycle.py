"""The lifecycle engine: applies the profile to orders and the catalog as the clock moves."""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, func, select

from contracts.dashboard import EventHub
from contracts.statuses import ACCEPTED, PROCESSED, REJECTED, is_legal_move
from contracts.wire import format_timestamp, later
from supplier_sim import db as tables
from supplier_sim import dispatching, rules
from supplier_sim.catalog import Catalog, CatalogError, changed
from supplier_sim.clock import Clock
from supplier_sim.cluster import Cluster
from supplier_sim.db import Conn, Database, get_meta, set_meta
from supplier_sim.problems import Problem
from supplier_sim.profile import Profile
from supplier_sim.seeding import draw, rng_for
from supplier_sim.webhooks import Webhooks

log = logging.getLogger("supplier_sim.lifecycle")
BATCH = 200
# Built once: building a statement costs more than SQLite takes to run it, and every event runs these.
_LOAD = select(tables.orders).where(tables.orders.c.order_id == bindparam("order_id"))
_SAVE = tables.orders.update().where(tables.orders.c.order_id == bindparam("where_order_id"))
_STOCK = tables.products.update().where(tables.products.c.product_number == bindparam("where_number"))
_DISPATCHED = tables.dispatch_notifications.insert()


@dataclass(slots=True)
class Order:
    """An order row being worked on inside one transaction."""

    order_id: str
    customer_number: str
    status: str
    body: dict[str, Any]
    history: list[dict[str, Any]]
    updated_ms: int
    next_event: str | None
    next_event_ms: int | None
    plan: dict[str, Any] | None = field(default=None)
    moves: list[dict[str, Any]] = field(default_factory=list)  # for the dashboards, once the transaction commits

    @classmethod
    def from_row(cls, row: Row[Any]) -> Order:
        return cls(
            row.order_id,
            row.customer_number,
            row.status,
            orjson.loads(row.body),
            orjson.loads(row.history),
            row.updated_ms,
            row.next_event,
            row.next_event_ms,
            orjson.loads(row.dispatch_plan) if row.dispatch_plan else None,
        )

    def ordered(self) -> dict[int, int]:
        return {line["lineNumber"]: line["quantity"] for line in self.body["lines"]}


class Lifecycle:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        profile: Profile,
        seed: int,
        catalog: Catalog,
        stock: dict[str, int],
        hooks: Webhooks,
        errors: list[str],
        hub: EventHub,
    ) -> None:
        self.hub = hub
        self.db = db
        self.clock = clock
        self.profile = profile
        self.seed = seed
        self.catalog = catalog
        self.stock = stock
        self.hooks = hooks
        self.errors = errors
        self.changes_applied = 0
        self.cluster: Cluster | None = None  # one of several workers: stock and the catalog are shared

    async def next_due_ms(self) -> int | None:
        """When the next scheduled event (an order's or the catalog's) is due."""
        async with self.db.read() as conn:
            due = await conn.scalar(select(func.min(tables.orders.c.next_event_ms)))
        times = [t for t in (due, self._next_change_at()) if t is not None]
        return min(times) if times else None

    async def upcoming(self, limit: int) -> list[tuple[int, str, str | None]]:
        """The next scheduled events, soonest first: (when, what, the order's id or None)."""
        column = tables.orders.c.next_event_ms
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(tables.orders.c.order_id, tables.orders.c.next_event, column)
                .where(column.is_not(None))
                .order_by(column, tables.orders.c.seq)
                .limit(limit)
            )
            found: list[tuple[int, str, str | None]] = [(at, f"{event} {oid}", oid) for oid, event, at in rows]
        changes = self.profile.catalog_changes[self.changes_applied : self.changes_applied + limit]
        found += [(change.at_ms, f"catalog change: {change.kind}", None) for change in changes]
        return sorted(found, key=lambda item: item[0])[:limit]

    async def run_until(self, limit_ms: int) -> int:
        """Apply every event due at or before ``limit_ms`` in time order, each in its own transaction."""
        applied = 0
        while True:
            change_at = self._next_change_at()
            horizon = min(limit_ms, change_at) if change_at is not None else limit_ms
            async with self.db.read() as conn:
                due = (
                    await conn.execute(
                        select(tables.orders.c.order_id, tables.orders.c.next_event_ms)
                        .where(tables.orders.c.next_event_ms <= horizon)
                        .order_by(tables.orders.c.next_event_ms, tables.orders.c.seq)
                        .limit(BATCH)
                    )
                ).all()
            if not due:
                if change_at is None or change_at > limit_ms:
                    return applied
                await self._scheduled_change(change_at)
                applied += 1
                continue
            for index, (order_id, at_ms) in enumerate(due):
                rescheduled = await self._event(order_id, at_ms)
                applied += 1
                following = due[index + 1][1] if index + 1 < len(due) else None
                if rescheduled is not None and following is not None and rescheduled < following:
                    break  # this order's next event comes first: select again

    def _next_change_at(self) -> int | None:
        changes = self.profile.catalog_changes
        return changes[self.changes_applied].at_ms if self.changes_applied < len(changes) else None

    async def _event(self, order_id: str, at_ms: int) -> int | None:
        """Apply one order's due event; a failure is recorded and parks that order, never the clock."""
        try:
            async with self.db.write() as conn:
                order = await self.load_order(conn, order_id)
                if order.next_event_ms != at_ms:
                    return order.next_event_ms  # changed since it was selected
                await self._apply(conn, order, at_ms)
                await self._save(conn, order)
            self._announce(order)
            return order.next_event_ms
        except Exception:
            log.exception("order %s: the event due at %s failed; the order is parked", order_id, at_ms)
            self.errors.append(f"order {order_id}: event at {format_timestamp(at_ms)}: {traceback.format_exc()}")
            async with self.db.write() as conn:
                await conn.execute(
                    tables.orders.update()
                    .where(tables.orders.c.order_id == order_id)
                    .values(next_event=None, next_event_ms=None)
                )
                rows = await conn.execute(select(tables.products.c.product_number, tables.products.c.stock))
                self.stock.update(dict(rows.tuples().all()))
            return None

    async def _apply(self, conn: Conn, order: Order, at_ms: int) -> None:
        event = order.next_event
        order.next_event = order.next_event_ms = None
        if event == "process":
            rejection = rules.rejection(
                order.order_id, order.customer_number, order.body, self.profile, self.catalog, self.seed
            )
            if rejection:
                await self._move(conn, order, REJECTED, at_ms, *rejection)
            else:
                await self._move(conn, order, PROCESSED, at_ms)
        elif event == "accept":
            wanted: Counter[str] = Counter()
            for line in order.body["lines"]:
                wanted[line["productNumber"]] += line["quantity"]
            if self.cluster is not None:
                await self._fresh_stock(conn, list(wanted))
            short = [number for number, quantity in wanted.items() if quantity > self.stock.get(number, 0)]
            if short:
                message = "not enough stock of " + ", ".join(short)
                await self._move(conn, order, REJECTED, at_ms, "OUT_OF_STOCK", message)
            else:
                await self._move(conn, order, ACCEPTED, at_ms)
        elif event == "dispatch":
            await self._scheduled_dispatch(conn, order, at_ms)

    async def _move(
        self,
        conn: Conn,
        order: Order,
        target: str,
        at_ms: int,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        if not is_legal_move(order.status, target):
            raise Problem.conflict(
                "illegal-transition", f"order {order.order_id} cannot move from {order.status} to {target}"
            )
        entry: dict[str, Any] = {"status": target, "at": format_timestamp(at_ms)}
        if target == REJECTED:
            entry["reasonCode"] = reason or "OTHER"
        if message:
            entry["message"] = message
        previous = order.status
        order.history.append(entry)
        order.status = target
        # A poller's updatedSince must see the change: never stamp it before it became visible.
        order.updated_ms = max(at_ms, self.clock.now_ms())
        order.next_event = order.next_event_ms = None
        if target == PROCESSED:
            rng = rng_for(self.seed, order.order_id, "accept")
            order.next_event, order.next_event_ms = "accept", later(at_ms, draw(self.profile.acceptance_delay, rng))
        elif target == ACCEPTED:
            await self._ship(conn, order, at_ms)
        data = {
            "orderId": order.order_id,
            "orderNumber": order.body["orderNumber"],
            "previousStatus": previous,
            **entry,
        }
        await self.hooks.enqueue(conn, order.customer_number, "order.status_changed", data, at_ms)
        if self.hub.listening:
            order.moves.append({**data, "customerNumber": order.customer_number})

    def _announce(self, order: Order) -> None:
        """Tell the dashboards of the moves a committed transaction made: a move rolled back was never made."""
        for move in order.moves:
            self.hub.publish("order", move)

    async def _fresh_stock(self, conn: Conn, numbers: list[str]) -> None:
        """The stock as the database holds it: another worker may have shipped since this one last did."""
        column = tables.products.c.product_number
        rows = await conn.execute(select(column, tables.products.c.stock).where(column.in_(numbers)))
        self.stock.update(dict(rows.tuples().all()))

    async def _ship(self, conn: Conn, order: Order, at_ms: int) -> None:
        """Plan the dispatch notifications and take what they ship from stock."""
        rng = rng_for(self.seed, order.order_id, "dispatch")
        order.plan = dispatching.plan(order.body["lines"], self.profile, rng)
        shipped = dispatching.shipped_per_product(order.body["lines"], order.plan)
        if self.cluster is not None:  # an operator's accept comes here directly: another worker may have shipped
            await self._fresh_stock(conn, list(shipped))
        for number, quantity in shipped.items():
            if number in self.stock:
                self.stock[number] -= quantity
                await conn.execute(_STOCK, {"where_number": number, "stock": self.stock[number]})
        self._schedule_dispatch(order, later(at_ms, draw(self.profile.dispatch_delay, rng)))

    def _schedule_dispatch(self, order: Order, at_ms: int) -> None:
        if order.plan is not None and order.plan["next"] < len(order.plan["parts"]):
            order.next_event, order.next_event_ms = "dispatch", at_ms

    async def _scheduled_dispatch(self, conn: Conn, order: Order, at_ms: int) -> None:
        if order.plan is None:
            return
        part = order.plan["parts"][order.plan["next"]]
        order.plan["next"] += 1
        await self._dispatch(conn, order, {int(k): v for k, v in part.items()}, at_ms)
        rng = rng_for(self.seed, order.order_id, "interval", order.plan["next"])
        self._schedule_dispatch(order, later(at_ms, draw(self.profile.dispatch_interval, rng)))

    async def _dispatch(
        self,
        conn: Conn,
        order: Order,
        quantities: dict[int, int],
        at_ms: int,
        carrier: str | None = None,
        tracking: str | None = None,
        clamp: bool = True,
    ) -> dict[str, Any] | None:
        assert order.plan is not None, "only an accepted order has a dispatch plan"
        rng = rng_for(self.seed, order.order_id, "notification", order.plan["count"] + 1)
        note = dispatching.notification(
            order.order_id, order.body, order.plan, quantities, at_ms, self.profile, rng, carrier, tracking, clamp
        )
        if note is None:
            return None
        await conn.execute(
            _DISPATCHED,
            {
                "dispatch_notification_id": note["dispatchNotificationId"],
                "order_id": order.order_id,
                "doc": orjson.dumps(note).decode(),
                "dispatched_ms": at_ms,
            },
        )
        order.updated_ms = max(order.updated_ms, at_ms, self.clock.now_ms())
        await self.hooks.enqueue(conn, order.customer_number, "dispatch_notification.created", note, at_ms)
        return note

    async def _save(self, conn: Conn, order: Order) -> None:
        plan = orjson.dumps(order.plan).decode() if order.plan is not None else None
        values = {
            "where_order_id": order.order_id,
            "status": order.status,
            "history": orjson.dumps(order.history).decode(),
            "updated_ms": order.updated_ms,
            "next_event": order.next_event,
            "next_event_ms": order.next_event_ms,
            "dispatch_plan": plan,
        }
        await conn.execute(_SAVE, values)

    async def load_order(self, conn: Conn, order_id: str) -> Order:
        row = (await conn.execute(_LOAD, {"order_id": order_id})).first()
        if row is None:
            raise Problem.not_found("the simulator holds no order with this id")
        return Order.from_row(row)

    async def force(self, order_id: str, target: str, at_ms: int, reason: str | None, message: str | None) -> None:
        """Move an order now, as an operator would; an illegal move is a 409 and changes nothing."""
        async with self.db.write() as conn:
            order = await self.load_order(conn, order_id)
            await self._move(conn, order, target, at_ms, reason, message)
            await self._save(conn, order)
        self._announce(order)

    async def dispatch_now(
        self, order_id: str, quantities: dict[int, int] | None, at_ms: int, carrier: str | None, tracking: str | None
    ) -> dict[str, Any]:
        async with self.db.write() as conn:
            order = await self.load_order(conn, order_id)
            if order.status != ACCEPTED or order.plan is None:
                raise Problem.conflict(
                    "not-accepted", f"order {order_id} is {order.status}; only an ACCEPTED order is dispatched"
                )
            if quantities is None:
                done = order.plan["dispatched"]
                quantities = {n: q - done.get(str(n), 0) for n, q in order.ordered().items()}
            unknown = sorted(set(quantities) - set(order.ordered()))
            if unknown:
                raise Problem.invalid_field("/lines", f"names a line that order {order_id} does not have")
            notification = await self._dispatch(conn, order, quantities, at_ms, carrier, tracking, clamp=False)
            if notification is None:
                raise Problem.conflict("over-dispatch", f"order {order_id} has nothing left to dispatch")
            await self._save(conn, order)
            return notification

    async def _scheduled_change(self, at_ms: int) -> None:
        """Apply the profile's next catalog change; one that cannot be applied is recorded and skipped."""
        change = self.profile.catalog_changes[self.changes_applied]
        rng = rng_for(self.seed, "catalog-change", self.changes_applied)
        numbers = self.catalog.numbers()
        chosen = (
            [change.product_number] if change.product_number else rng.sample(numbers, min(change.count, len(numbers)))
        )
        self.changes_applied += 1
        try:
            async with self.db.write() as conn:
                for number in chosen:
                    await self.change_product(conn, change.kind, number, at_ms, rng)
                await set_meta(conn, "catalog_changes_applied", str(self.changes_applied))
        except (CatalogError, Problem) as exc:
            log.error("the catalog change %s at %s was skipped: %s", change.kind, format_timestamp(at_ms), exc)
            self.errors.append(f"catalog change {change.kind} at {format_timestamp(at_ms)} skipped: {exc}")
            async with self.db.write() as conn:
                await set_meta(conn, "catalog_changes_applied", str(self.changes_applied))

    async def change_product(
        self, conn: Conn, kind: str, number: str, at_ms: int, rng: Any, value: str | None = None
    ) -> dict[str, Any]:
        """Change one product now (price, barcode, withdraw, reactivate, rename) and persist it."""
        current = self.catalog.get(number)
        if current is None:
            raise Problem.not_found("the catalog has no product with this number")
        product = changed(current, kind, at_ms, rng, value, taken=self.catalog.barcodes())
        await conn.execute(
            tables.products.update()
            .where(tables.products.c.product_number == number)
            .values(doc=orjson.dumps(product).decode(), active=product["active"], updated_ms=at_ms)
        )
        self.catalog.replace(product)
        if self.cluster is not None:
            version = int(await get_meta(conn, "catalog_version") or 0) + 1
            await set_meta(conn, "catalog_version", str(version))
            await self.cluster.notify(conn, "catalog")
        return product
