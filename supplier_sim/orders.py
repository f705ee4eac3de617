"""Orders as the supplier holds them: idempotent creation, look-up and listing."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from contracts.dashboard import EventHub
from contracts.statuses import NEW
from contracts.wire import format_timestamp, later
from supplier_sim import db as tables
from supplier_sim.clock import Clock
from supplier_sim.cluster import ID_BLOCK, Cluster
from supplier_sim.db import Database
from supplier_sim.problems import Problem
from supplier_sim.profile import Profile
from supplier_sim.seeding import draw, rng_for

log = logging.getLogger("supplier_sim.orders")
NUMBERED = frozenset({"sim_orders_pkey", "sim_orders_seq_key"})  # the constraints an order's number meets
MAX_RENUMBERED = 4 * ID_BLOCK  # numbers an order may find taken in a row: a few workers' stale blocks


def _constraint(error: IntegrityError) -> str:
    """The name of the constraint a PostgreSQL insert broke, as asyncpg tells it ("" when it does not)."""
    return str(getattr(getattr(error.orig, "__cause__", None), "constraint_name", None) or "")


def request_digest(body: Any) -> str:
    """The same body, however its keys are ordered or spaced, gives the same digest."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


# The start of a key the simulator makes up itself (the duplicateOnReplay misbehaviour): a space
# is never in a client's key (visible ASCII only), so it cannot meet one, and it is never echoed.
OWN_KEY = "duplicate "

# An order's dispatch notifications, oldest first: built once, as every dispatch fetch reads them.
_dns = tables.dispatch_notifications
_OWNER = select(tables.orders.c.customer_number).where(tables.orders.c.order_id == bindparam("order_id"))
_NOTES_COUNT = select(func.count()).select_from(_dns).where(_dns.c.order_id == bindparam("order_id"))
_NOTES = (
    select(_dns.c.doc)
    .where(_dns.c.order_id == bindparam("order_id"))
    .order_by(_dns.c.dispatched_ms, _dns.c.dispatch_notification_id)
    .limit(bindparam("size"))
    .offset(bindparam("skip"))
)


def document(row: Row[Any]) -> dict[str, Any]:
    """An order row as the API shows it, echoing the client's Idempotency-Key that created it."""
    echoed = {} if row.idempotency_key.startswith(OWN_KEY) else {"idempotencyKey": row.idempotency_key}
    return {
        "orderId": row.order_id,
        **orjson.loads(row.body),
        "status": row.status,
        "statusHistory": orjson.loads(row.history),
        "createdAt": format_timestamp(row.created_ms),
        "updatedAt": format_timestamp(row.updated_ms),
        **echoed,
    }


class GroupCommit:
    """Inserts that arrive while a transaction runs are written together in the next one.

    One transaction per order costs five round trips to SQLite's thread; under load a batch
    shares them, and each caller's future settles only once its own row is committed.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._statement: Any = tables.orders.insert()
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def share(self) -> None:
        """Other workers insert too: a key one of them already used inserts nothing, and the caller hears so."""
        self._statement = (
            pg_insert(tables.orders)
            .on_conflict_do_nothing(constraint="uq_sim_orders_key")
            .returning(tables.orders.c.order_id)
        )

    def submit(self, row: dict[str, Any]) -> asyncio.Future[bool]:
        """Queue ``row``; the future settles when it is committed (True) or its key was taken (False)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                inserted = await self._write([row for row, _ in batch])
            except Exception:
                # One bad row must not fail the others: write them one by one.
                for row, done in batch:
                    await self._settle_alone(row, done)
            else:
                for row, done in batch:
                    done.set_result(inserted is None or row["order_id"] in inserted)

    async def _settle_alone(self, row: dict[str, Any], done: asyncio.Future[bool]) -> None:
        try:
            inserted = await self._write([row])
        except Exception as exc:
            done.set_exception(exc)
        else:
            done.set_result(inserted is None or row["order_id"] in inserted)

    async def _write(self, rows: list[dict[str, Any]]) -> set[str] | None:
        """The ids inserted, when some may not be; None when every row was."""
        async with self.db.write() as conn:
            result = await conn.execute(self._statement, rows)
            return set(result.scalars()) if result.returns_rows else None


class OrderBook:
    def __init__(self, db: Database, clock: Clock, profile: Profile, seed: int, hub: EventHub) -> None:
        self.hub = hub
        self.db = db
        self._writer = GroupCommit(db)
        self.clock = clock
        self.profile = profile
        self.seed = seed
        # (customer, key) -> (body digest, order id); plain tuples, which the GC stops tracking.
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}
        self._storing: dict[tuple[str, str], asyncio.Future[bool]] = {}
        self._seq = 0
        self.cluster: Cluster | None = None  # several workers: order numbers come from the shared sequence

    def share(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._writer.share()

    async def load(self) -> None:
        """Idempotency keys and the id counter, from what the database already holds."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(
                    tables.orders.c.customer_number,
                    tables.orders.c.idempotency_key,
                    tables.orders.c.request_hash,
                    tables.orders.c.order_id,
                )
            )
            self._keys = {(number, key): (digest, order_id) for number, key, digest, order_id in rows}
            self._seq = (await conn.scalar(select(func.max(tables.orders.c.seq)))) or 0

    def is_replay(self, customer_number: str, key: str, body: Any) -> bool:
        """Whether this key has already made an order from this very body."""
        known = self._keys.get((customer_number, key))
        return known is not None and known[0] == request_digest(body)

    async def create(
        self, customer_number: str, key: str, body: dict[str, Any], renumbered: int = 0
    ) -> tuple[dict[str, Any], bool]:
        """The order for this key: created now (True) or the one the key already made (False).

        ``renumbered`` counts the numbers this order found taken already (see _committed).
        """
        digest = request_digest(body)
        slot = (customer_number, key)
        known = self._keys.get(slot)
        if known is not None:
            known_digest, known_id = known
            if known_digest != digest:
                raise Problem.conflict(
                    "idempotency-key-reused",
                    "this Idempotency-Key was used for a different order body; use a new key for a new order",
                )
            storing = self._storing.get(slot)
            if storing is not None and not await self._committed(storing):
                # Another worker's order holds the key, or this one is made again under another number.
                return await self.create(customer_number, key, body, renumbered)
            order = await self.get(customer_number, known_id)
            if order is None:
                raise RuntimeError(f"idempotency key {key!r} points at order {known_id}, which is not stored")
            return order, False
        seq = self._next_seq()
        if seq is None:
            assert self.cluster is not None
            async with self.db.read() as conn:
                await self.cluster.refill_ids(conn)
            return await self.create(customer_number, key, body, renumbered)  # the key may have been taken meanwhile
        order_id = f"ORD{seq:08d}"
        now = self.clock.now_ms()
        at = format_timestamp(now)
        history = [{"status": NEW, "at": at}]
        process_at = later(now, draw(self.profile.processing_delay, rng_for(self.seed, order_id, "process")))
        stored = self._writer.submit(
            {
                "order_id": order_id,
                "seq": seq,
                "customer_number": customer_number,
                "idempotency_key": key,
                "request_hash": digest,
                "order_number": body["orderNumber"],
                "status": NEW,
                "body": orjson.dumps(body).decode(),
                "history": orjson.dumps(history).decode(),
                "created_ms": now,
                "updated_ms": now,
                "next_event": "process",
                "next_event_ms": process_at,
            }
        )
        self._keys[slot] = (digest, order_id)
        self._storing[slot] = stored
        stored.add_done_callback(lambda future: self._settled(slot, future))
        # A caller that goes away leaves the write, and the key, in place.
        committed = await self._committed(stored)
        if committed is None:
            if renumbered >= MAX_RENUMBERED:
                raise RuntimeError(f"{MAX_RENUMBERED} order numbers in a row were taken already")
            log.warning("order number %d is taken already (a reset on another worker); taking the next", seq)
            return await self.create(customer_number, key, body, renumbered + 1)
        if not committed:
            return await self._taken(customer_number, key, digest)
        if self.hub.listening:
            number = body["orderNumber"]
            moved = {"orderId": order_id, "orderNumber": number, "previousStatus": None, "status": NEW, "at": at}
            self.hub.publish("order", {**moved, "customerNumber": customer_number})
        order = {"orderId": order_id, **body, "status": NEW, "statusHistory": history, "createdAt": at, "updatedAt": at}
        return ({**order, "idempotencyKey": key} if not key.startswith(OWN_KEY) else order), True

    async def made_by(self, customer_number: str, key: str) -> dict[str, Any] | None:
        """The order this key made, whatever body it came with (the replayIgnoresBody misbehaviour)."""
        slot = (customer_number, key)
        known = self._keys.get(slot)
        if known is None:
            return None
        storing = self._storing.get(slot)
        if storing is not None and await self._committed(storing) is None:
            return None  # made again under another number: the key's first order is not stored yet
        return await self.get(customer_number, known[1])

    async def _committed(self, stored: asyncio.Future[bool]) -> bool | None:
        """Whether an order's write committed (False: another worker's order holds its key), or None when
        its number was taken already and it must be made again under the next.

        The key's conflict inserts nothing; a number's raises. A worker whose block of numbers was
        drawn before a reset elsewhere may have used the number since.
        """
        try:
            return await asyncio.shield(stored)
        except IntegrityError as exc:
            if self.cluster is None or _constraint(exc) not in NUMBERED:
                raise
            return None

    def _next_seq(self) -> int | None:
        if self.cluster is not None:
            return self.cluster.take_id()
        self._seq += 1
        return self._seq

    async def _taken(self, customer_number: str, key: str, digest: str) -> tuple[dict[str, Any], bool]:
        """The order another worker made with this key: a replay, or a 409 for a different body."""
        query = select(tables.orders).where(
            tables.orders.c.customer_number == customer_number, tables.orders.c.idempotency_key == key
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise RuntimeError(f"idempotency key {key!r} was taken, but no order holds it")
        self._keys[(customer_number, key)] = (row.request_hash, row.order_id)
        if row.request_hash != digest:
            raise Problem.conflict(
                "idempotency-key-reused",
                "this Idempotency-Key was used for a different order body; use a new key for a new order",
            )
        return document(row), False

    def _settled(self, slot: tuple[str, str], stored: asyncio.Future[bool]) -> None:
        """The key stays only if its order was committed; a failed write, or a key taken elsewhere, frees it."""
        del self._storing[slot]
        if stored.exception() is not None or not stored.result():
            del self._keys[slot]

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

    async def held(self, customer_number: str | None, order_number: str | None) -> list[tuple[dict[str, Any], str]]:
        """The orders held (of the customer, with the order number, when given) and their keys, oldest first."""
        query = select(tables.orders).order_by(tables.orders.c.seq)
        if customer_number is not None:
            query = query.where(tables.orders.c.customer_number == customer_number)
        if order_number is not None:
            query = query.where(tables.orders.c.order_number == order_number)
        async with self.db.read() as conn:
            return [(document(row), row.idempotency_key) for row in await conn.execute(query)]

    async def recent(self, customer_number: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest orders first (of the customer, in the status, when given), each naming its customer."""
        query = select(tables.orders).order_by(tables.orders.c.seq.desc()).limit(limit)
        if customer_number is not None:
            query = query.where(tables.orders.c.customer_number == customer_number)
        if status is not None:
            query = query.where(tables.orders.c.status == status)
        async with self.db.read() as conn:
            return [{**document(row), "customerNumber": row.customer_number} for row in await conn.execute(query)]

    async def dispatch_notifications(
        self, customer_number: str | None, order_id: str, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int] | None:
        """The order's dispatch notifications, oldest first; None when the customer (any, if None) has no such order."""
        async with self.db.read() as conn:
            owner = await conn.scalar(_OWNER, {"order_id": order_id})
            if owner is None or (customer_number is not None and owner != customer_number):
                return None
            total = await conn.scalar(_NOTES_COUNT, {"order_id": order_id}) or 0
            rows = await conn.execute(_NOTES, {"order_id": order_id, "size": size, "skip": (page - 1) * size})
            return [orjson.loads(doc) for (doc,) in rows], total
