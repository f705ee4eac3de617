"""Orders as the supplier holds them: idempotent creation, look-up and listing."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Row, func, select

from contracts.statuses import NEW
from contracts.wire import format_timestamp
from supplier_sim import db as tables
from supplier_sim.clock import Clock
from supplier_sim.db import Database
from supplier_sim.problems import Problem
from supplier_sim.profile import Profile
from supplier_sim.seeding import draw, rng_for


@dataclass(slots=True)
class _Key:
    digest: str
    order_id: str
    stored: asyncio.Future[None] | None  # None once the order is in the database


def request_digest(body: Any) -> str:
    """The same body, however its keys are ordered or spaced, gives the same digest."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def document(row: Row[Any]) -> dict[str, Any]:
    """An order row as the API shows it."""
    return {
        "orderId": row.order_id,
        **orjson.loads(row.body),
        "status": row.status,
        "statusHistory": orjson.loads(row.history),
        "createdAt": format_timestamp(row.created_ms),
        "updatedAt": format_timestamp(row.updated_ms),
    }


class OrderBook:
    def __init__(self, db: Database, clock: Clock, profile: Profile, seed: int) -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.seed = seed
        self._keys: dict[tuple[str, str], _Key] = {}
        self._seq = 0

    async def load(self) -> None:
        """Idempotency keys and the id counter, from what the database already holds."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(tables.orders.c.customer_number, tables.orders.c.idempotency_key, tables.orders.c.request_hash, tables.orders.c.order_id)
            )
            self._keys = {}
            for number, key, digest, order_id in rows:
                self._keys[(number, key)] = _Key(digest, order_id, None)
            self._seq = (await conn.scalar(select(func.max(tables.orders.c.seq)))) or 0

    async def create(self, customer_number: str, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The order for this key: created now (True) or the one the key already made (False)."""
        digest = request_digest(body)
        known = self._keys.get((customer_number, key))
        if known is not None:
            if known.digest != digest:
                raise Problem.conflict(
                    "idempotency-key-reused",
                    f"Idempotency-Key {key!r} was used for a different order body; use a new key for a new order",
                )
            if known.stored is not None:
                await asyncio.shield(known.stored)
            order = await self.get(customer_number, known.order_id)
            if order is None:
                raise RuntimeError(f"idempotency key {key!r} points at order {known.order_id}, which is not stored")
            return order, False
        self._seq += 1
        seq = self._seq
        order_id = f"ORD{seq:08d}"
        entry = _Key(digest, order_id, asyncio.get_running_loop().create_future())
        self._keys[(customer_number, key)] = entry
        now = self.clock.now_ms()
        at = format_timestamp(now)
        history = [{"status": NEW, "at": at}]
        process_at = now + draw(self.profile.processing_delay, rng_for(self.seed, order_id, "process"))
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    tables.orders.insert().values(
                        order_id=order_id, seq=seq, customer_number=customer_number, idempotency_key=key,
                        request_hash=digest, order_number=body["orderNumber"], status=NEW,
                        body=orjson.dumps(body).decode(), history=orjson.dumps(history).decode(),
                        created_ms=now, updated_ms=now, next_event="process", next_event_ms=process_at,
                    )
                )
        except BaseException as exc:
            del self._keys[(customer_number, key)]
            if isinstance(exc, Exception):
                entry.stored.set_exception(exc)
                entry.stored.exception()  # marked as seen: waiters re-raise it, nobody else must
            else:
                entry.stored.cancel()
            raise
        entry.stored.set_result(None)
        entry.stored = None
        order = {"orderId": order_id, **body, "status": NEW, "statusHistory": history, "createdAt": at, "updatedAt": at}
        return order, True

    async def get(self, customer_number: str | None, order_id: str) -> dict[str, Any] | None:
        """The order, if it belongs to ``customer_number`` (any customer's when None)."""
        query = select(tables.orders).where(tables.orders.c.order_id == order_id)
        if customer_number is not None:
            query = query.where(tables.orders.c.customer_number == customer_number)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return document(row) if row else None

    async def page(
        self, customer_number: str, statuses: list[str], since_ms: int | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a customer's orders, by last change, then by creation."""
        where = [tables.orders.c.customer_number == customer_number]
        if statuses:
            where.append(tables.orders.c.status.in_(statuses))
        if since_ms is not None:
            where.append(tables.orders.c.updated_ms >= since_ms)
        async with self.db.read() as conn:
            total = await conn.scalar(select(func.count()).select_from(tables.orders).where(*where)) or 0
            rows = await conn.execute(
                select(tables.orders)
                .where(*where)
                .order_by(tables.orders.c.updated_ms, tables.orders.c.seq)
                .limit(size)
                .offset((page - 1) * size)
            )
            return [document(row) for row in rows], total

    async def dispatch_notifications(
        self, customer_number: str, order_id: str, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        """The order's dispatch notifications, oldest first; None when the customer has no such order."""
        dns = tables.dispatch_notifications
        async with self.db.read() as conn:
            owner = await conn.scalar(
                select(tables.orders.c.customer_number).where(tables.orders.c.order_id == order_id)
            )
            if owner != customer_number:
                return None
            total = await conn.scalar(select(func.count()).select_from(dns).where(dns.c.order_id == order_id)) or 0
            rows = await conn.execute(
                select(dns.c.doc)
                .where(dns.c.order_id == order_id)
                .order_by(dns.c.dispatched_ms, dns.c.dispatch_notification_id)
                .limit(size)
                .offset((page - 1) * size)
            )
            return [orjson.loads(doc) for (doc,) in rows], total

