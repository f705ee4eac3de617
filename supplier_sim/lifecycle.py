"""The lifecycle engine: applies the profile to orders and the catalog as the clock moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.statuses import ACCEPTED, PROCESSED, REJECTED, is_legal_move
from contracts.wire import format_date, format_timestamp
from supplier_sim import db as tables
from supplier_sim.catalog import Catalog, changed
from supplier_sim.db import Database, set_meta
from supplier_sim.problems import Problem
from supplier_sim.profile import Profile
from supplier_sim.seeding import draw, rng_for
from supplier_sim.webhooks import Webhooks

BATCH = 200
DAY_MS = 86_400_000


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
        self, db: Database, profile: Profile, seed: int, catalog: Catalog, stock: dict[str, int], hooks: Webhooks
    ) -> None:
        self.db = db
        self.profile = profile
        self.seed = seed
        self.catalog = catalog
        self.stock = stock
        self.hooks = hooks
        self.changes_applied = 0

    async def run_until(self, limit_ms: int) -> int:
        """Apply every scheduled event due at or before ``limit_ms``, in time order; how many."""
        applied = 0
        while True:
            change_at = self._next_change_at()
            horizon = min(limit_ms, change_at) if change_at is not None else limit_ms
            async with self.db.write() as conn:
                rows = (
                    await conn.execute(
                        select(tables.orders)
                        .where(tables.orders.c.next_event_ms <= horizon)
                        .order_by(tables.orders.c.next_event_ms, tables.orders.c.seq)
                        .limit(BATCH)
                    )
                ).all()
                for row in rows:
                    await self._apply(conn, Order.from_row(row), row.next_event_ms)
                count = len(rows)
                if not rows and change_at is not None and change_at <= limit_ms:
                    await self._scheduled_change(conn, change_at)
                    count = 1
            if not count:
                return applied
            applied += count

    def _next_change_at(self) -> int | None:
        changes = self.profile.catalog_changes
        return changes[self.changes_applied].at_ms if self.changes_applied < len(changes) else None

    async def _apply(self, conn: AsyncConnection, order: Order, at_ms: int) -> None:
        event = order.next_event
        order.next_event = order.next_event_ms = None
        if event == "process":
            rejection = self._rejection(order)
            if rejection:
                await self._move(conn, order, REJECTED, at_ms, *rejection)
            else:
                await self._move(conn, order, PROCESSED, at_ms)
        elif event == "accept":
            short = [
                line["productNumber"]
                for line in order.body["lines"]
                if line["quantity"] > self.stock.get(line["productNumber"], 0)
            ]
            if short:
                await self._move(
                    conn, order, REJECTED, at_ms, "OUT_OF_STOCK", "not enough stock of " + ", ".join(short)
                )
            else:
                await self._move(conn, order, ACCEPTED, at_ms)
        elif event == "dispatch":
            await self._scheduled_dispatch(conn, order, at_ms)
        await self._save(conn, order)

    def _rejection(self, order: Order) -> tuple[str, str] | None:
        """Why the supplier cannot fulfil a well-formed order, or None; the first rule that holds wins."""
        customer = self.profile.customer(order.customer_number)
        if customer is None or customer.blocked:
            return "CUSTOMER_BLOCKED", f"customer {order.customer_number} is blocked"
        lines = order.body["lines"]
        for rule in self.profile.rejection_rules:
            if (
                (rule.product_number is None or any(line["productNumber"] == rule.product_number for line in lines))
                and (rule.order_number is None or rule.order_number.search(order.body["orderNumber"]))
                and (rule.org_unit is None or rule.org_unit == order.body["orgUnit"])
            ):
                return rule.reason_code, rule.message or "rejected by the profile's rule"
        found = [(line, self.catalog.get(line["productNumber"])) for line in lines]
        unknown = [line["productNumber"] for line, product in found if product is None]
        if unknown:
            return "UNKNOWN_PRODUCT", "unknown product " + ", ".join(unknown)
        known = [(line, product) for line, product in found if product is not None]
        inactive = [line["productNumber"] for line, product in known if not product["active"]]
        if inactive:
            return "PRODUCT_INACTIVE", "withdrawn product " + ", ".join(inactive)
        mismatched = [
            f"{line['productNumber']} (container of {product['containerAmount']}, ordered as {line['containerAmount']})"
            for line, product in known
            if line["containerAmount"] != product["containerAmount"]
        ]
        if mismatched:
            return "CONTAINER_MISMATCH", "container amount differs for " + ", ".join(mismatched)
        value = sum(
            (Decimal(product["purchasePrice"]["amount"]) * line["quantity"] for line, product in known), Decimal(0)
        )
        minimum = self.profile.minimum_order_value
        if value < minimum:
            return "BELOW_MINIMUM_ORDER_VALUE", f"order value {value} is below the minimum of {minimum}"
        if rng_for(self.seed, order.order_id, "reject").random() < self.profile.random_rejection_rate:
            return "OTHER", "rejected by the supplier"
        return None

    async def _move(
        self,
        conn: AsyncConnection,
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
        order.updated_ms = at_ms
        order.next_event = order.next_event_ms = None
        if target == PROCESSED:
            order.next_event = "accept"
            order.next_event_ms = at_ms + draw(
                self.profile.acceptance_delay, rng_for(self.seed, order.order_id, "accept")
            )
        elif target == ACCEPTED:
            await self._ship(conn, order, at_ms)
        data = {
            "orderId": order.order_id,
            "orderNumber": order.body["orderNumber"],
            "previousStatus": previous,
            **entry,
        }
        await self.hooks.enqueue(conn, order.customer_number, "order.status_changed", data, at_ms)

    async def _ship(self, conn: AsyncConnection, order: Order, at_ms: int) -> None:
        """Take the stock and plan the dispatch notifications: one or several, maybe short."""
        rng = rng_for(self.seed, order.order_id, "dispatch")
        for line in order.body["lines"]:
            number = line["productNumber"]
            if number in self.stock:
                self.stock[number] = max(0, self.stock[number] - line["quantity"])
                await conn.execute(
                    tables.products.update()
                    .where(tables.products.c.product_number == number)
                    .values(stock=self.stock[number])
                )
        count = rng.randint(*self.profile.notifications)
        shipped = {
            line["lineNumber"]: (
                rng.randint(0, line["quantity"] - 1)
                if rng.random() < self.profile.short_shipment_rate
                else line["quantity"]
            )
            for line in order.body["lines"]
        }
        parts = [
            {str(number): qty // count + (1 if k < qty % count else 0) for number, qty in shipped.items()}
            for k in range(count)
        ]
        order.plan = {"parts": [p for p in parts if any(p.values())], "next": 0, "dispatched": {}}
        self._schedule_dispatch(order, at_ms + draw(self.profile.dispatch_delay, rng))

    def _schedule_dispatch(self, order: Order, at_ms: int) -> None:
        assert order.plan is not None
        if order.plan["next"] < len(order.plan["parts"]):
            order.next_event, order.next_event_ms = "dispatch", at_ms

    async def _scheduled_dispatch(self, conn: AsyncConnection, order: Order, at_ms: int) -> None:
        assert order.plan is not None
        part = order.plan["parts"][order.plan["next"]]
        order.plan["next"] += 1
        await self.dispatch(conn, order, {int(k): v for k, v in part.items()}, at_ms)
        rng = rng_for(self.seed, order.order_id, "interval", order.plan["next"])
        self._schedule_dispatch(order, at_ms + draw(self.profile.dispatch_interval, rng))

    async def dispatch(
        self,
        conn: AsyncConnection,
        order: Order,
        quantities: dict[int, int],
        at_ms: int,
        carrier: str | None = None,
        tracking: str | None = None,
        clamp: bool = True,
    ) -> dict[str, Any] | None:
        """Record a dispatch notification; per line the sum never exceeds the ordered quantity."""
        assert order.plan is not None
        ordered = order.ordered()
        done = {int(k): v for k, v in order.plan["dispatched"].items()}
        lines = []
        for line in order.body["lines"]:
            number = line["lineNumber"]
            wanted = quantities.get(number, 0)
            room = ordered[number] - done.get(number, 0)
            if wanted > room and not clamp:
                raise Problem.conflict(
                    "over-dispatch", f"line {number} has {room} of {ordered[number]} left to dispatch, not {wanted}"
                )
            quantity = min(wanted, room)
            if quantity > 0:
                lines.append({"lineNumber": number, "productNumber": line["productNumber"], "quantity": quantity})
                done[number] = done.get(number, 0) + quantity
        if not lines:
            return None
        order.plan["dispatched"] = {str(k): v for k, v in done.items()}
        order.plan["count"] = count = order.plan.get("count", 0) + 1
        rng = rng_for(self.seed, order.order_id, "notification", count)
        notification = {
            "dispatchNotificationId": f"{order.order_id}-DN{count}",
            "orderId": order.order_id,
            "orderNumber": order.body["orderNumber"],
            "dispatchedAt": format_timestamp(at_ms),
            "expectedDeliveryDate": format_date(at_ms + self.profile.delivery_days * DAY_MS),
            "carrier": carrier or rng.choice(self.profile.carriers),
            "trackingNumber": tracking or f"{rng.randrange(10**11, 10**12)}",
            "lines": lines,
        }
        await conn.execute(
            tables.dispatch_notifications.insert().values(
                dispatch_notification_id=notification["dispatchNotificationId"],
                order_id=order.order_id,
                doc=orjson.dumps(notification).decode(),
                dispatched_ms=at_ms,
            )
        )
        order.updated_ms = max(order.updated_ms, at_ms)
        await self.hooks.enqueue(conn, order.customer_number, "dispatch_notification.created", notification, at_ms)
        return notification

    async def _save(self, conn: AsyncConnection, order: Order) -> None:
        await conn.execute(
            tables.orders.update()
            .where(tables.orders.c.order_id == order.order_id)
            .values(
                status=order.status,
                history=orjson.dumps(order.history).decode(),
                updated_ms=order.updated_ms,
                next_event=order.next_event,
                next_event_ms=order.next_event_ms,
                dispatch_plan=orjson.dumps(order.plan).decode() if order.plan is not None else None,
            )
        )

    async def load_order(self, conn: AsyncConnection, order_id: str) -> Order:
        row = (await conn.execute(select(tables.orders).where(tables.orders.c.order_id == order_id))).first()
        if row is None:
            raise Problem.not_found(f"no order {order_id!r}")
        return Order.from_row(row)

    async def force(self, order_id: str, target: str, at_ms: int, reason: str | None, message: str | None) -> None:
        """Move an order now, as an operator would; an illegal move is a 409 and changes nothing."""
        async with self.db.write() as conn:
            order = await self.load_order(conn, order_id)
            await self._move(conn, order, target, at_ms, reason, message)
            await self._save(conn, order)

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
                raise Problem.invalid_field("/lines", f"order {order_id} has no line {unknown[0]}")
            notification = await self.dispatch(conn, order, quantities, at_ms, carrier, tracking, clamp=False)
            if notification is None:
                raise Problem.conflict("over-dispatch", f"order {order_id} has nothing left to dispatch")
            await self._save(conn, order)
            return notification

    async def _scheduled_change(self, conn: AsyncConnection, at_ms: int) -> None:
        change = self.profile.catalog_changes[self.changes_applied]
        rng = rng_for(self.seed, "catalog-change", self.changes_applied)
        numbers = (
            [change.product_number]
            if change.product_number
            else rng.sample(self.catalog.numbers(), min(change.count, len(self.catalog)))
        )
        for number in numbers:
            await self.change_product(conn, change.kind, number, at_ms, rng)
        self.changes_applied += 1
        await set_meta(conn, "catalog_changes_applied", str(self.changes_applied))

    async def change_product(
        self, conn: AsyncConnection, kind: str, number: str, at_ms: int, rng: Any, value: str | None = None
    ) -> dict[str, Any]:
        """Change one product now (price, barcode, withdraw, reactivate, rename) and persist it."""
        current = self.catalog.get(number)
        if current is None:
            raise Problem.not_found(f"no product {number!r} in the catalog")
        product = changed(current, kind, at_ms, rng, value, taken=self.catalog.barcodes())
        await conn.execute(
            tables.products.update()
            .where(tables.products.c.product_number == number)
            .values(doc=orjson.dumps(product).decode(), active=product["active"], updated_ms=at_ms)
        )
        self.catalog.replace(product)
        return product
