"""Webhooks: registrations, signed events, at-least-once delivery with exponential backoff, and its faults."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from sqlalchemy import bindparam, func, select

from contracts.dashboard import EventHub
from contracts.signing import signed_headers
from contracts.wire import format_timestamp, later
from supplier_sim import db as tables
from supplier_sim.clock import Clock
from supplier_sim.cluster import Cluster
from supplier_sim.db import Conn, Database
from supplier_sim.faults import FaultRule, Faults
from supplier_sim.misbehaviour import body_only_signature, without_occurred_at
from supplier_sim.profile import Profile
from supplier_sim.seeding import draw, rng_for

log = logging.getLogger("supplier_sim.webhooks")
PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"
HELD = "held"  # held back by a reorder fault until the customer's next event is delivered, or its hold ends
WAITING = (PENDING, HELD)

# Built once: building a statement costs more than SQLite takes to run it, and each delivery runs these.
_deliveries = tables.deliveries.c
_ENQUEUE = tables.deliveries.insert()
_DUE = (
    select(tables.deliveries)
    .where(_deliveries.state.in_(WAITING), _deliveries.next_attempt_ms <= bindparam("now"))
    .order_by(_deliveries.seq)
)
_ATTEMPTED = tables.deliveries.update().where(_deliveries.seq == bindparam("where_seq"))
_TRIED = tables.attempts.insert()
_RELEASE = (
    tables.deliveries.update()
    .where(
        _deliveries.customer_number == bindparam("where_customer"),
        _deliveries.state == HELD,
        _deliveries.seq < bindparam("where_seq"),
    )
    .values(state=PENDING, next_attempt_ms=bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class Registration:
    url: str
    secret: str = field(repr=False)
    registered_ms: int = 0

    def public(self) -> dict[str, str]:
        """What the API shows: never the secret."""
        return {"url": self.url, "registeredAt": format_timestamp(self.registered_ms)}


class Webhooks:
    def __init__(self, db: Database, clock: Clock, profile: Profile, seed: int, faults: Faults, hub: EventHub) -> None:
        self.hub = hub
        self.db = db
        self.clock = clock
        self.profile = profile
        self.seed = seed
        self.faults = faults
        self.registrations: dict[str, Registration] = {}
        self.run_id = ""
        self._seq = 0
        self._pump_lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self.cluster: Cluster | None = None  # one of several workers: they hear of each registration

    async def load(self) -> None:
        await self.load_registrations()
        async with self.db.read() as conn:
            self._seq = (await conn.scalar(select(func.max(tables.deliveries.c.seq)))) or 0

    async def load_registrations(self) -> None:
        async with self.db.read() as conn:
            rows = await conn.execute(select(tables.webhooks))
            self.registrations = {r.customer_number: Registration(r.url, r.secret, r.registered_ms) for r in rows}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def register(self, customer_number: str, url: str, secret: str) -> Registration:
        registration = Registration(url, secret, self.clock.now_ms())
        async with self.db.write() as conn:
            await conn.execute(tables.webhooks.delete().where(tables.webhooks.c.customer_number == customer_number))
            await conn.execute(
                tables.webhooks.insert().values(
                    customer_number=customer_number, url=url, secret=secret, registered_ms=registration.registered_ms
                )
            )
            if self.cluster is not None:
                await self.cluster.notify(conn, "webhooks")
        self.registrations[customer_number] = registration
        return registration

    async def remove(self, customer_number: str) -> bool:
        if customer_number not in self.registrations:
            return False
        async with self.db.write() as conn:
            await conn.execute(tables.webhooks.delete().where(tables.webhooks.c.customer_number == customer_number))
            if self.cluster is not None:
                await self.cluster.notify(conn, "webhooks")
        del self.registrations[customer_number]
        return True

    async def enqueue(self, conn: Conn, customer_number: str, kind: str, data: dict[str, Any], at_ms: int) -> None:
        """Queue an event for the customer's receiver, inside the caller's transaction."""
        registration = self.registrations.get(customer_number)
        if registration is None:
            return
        self._seq += 1
        event_id = f"evt-{self.run_id}-{self._seq:08d}"
        body = orjson.dumps({"eventId": event_id, "type": kind, "occurredAt": format_timestamp(at_ms), "data": data})
        picked = self.faults.pick_event(customer_number, kind)
        first = self._first_attempt(picked[0] if picked else None, at_ms)
        await conn.execute(
            _ENQUEUE,
            {
                "seq": self._seq,
                "event_id": event_id,
                "customer_number": customer_number,
                "event_type": kind,
                "url": registration.url,
                "body": body.decode(),
                "attempts": 0,
                "created_ms": at_ms,
                "fault": None,
                **first,
            },
        )

    def _first_attempt(self, rule: FaultRule | None, at_ms: int) -> dict[str, Any]:
        """A new delivery's state, first attempt and fault: a late or reordered event waits, a withheld one fails."""
        values: dict[str, Any] = {"state": PENDING, "next_attempt_ms": at_ms, "withheld": 0}
        if rule is None:
            return values
        values["fault"] = rule.kind
        if rule.kind == "late":
            values["next_attempt_ms"] = later(at_ms, draw(rule.latency, rng_for(self.seed, "late", self._seq)))
        elif rule.kind == "reorder":
            values |= {"state": HELD, "next_attempt_ms": later(at_ms, rule.hold_s * 1000)}
        elif rule.kind == "withhold":
            values["withheld"] = rule.attempts
        return values

    async def next_attempt_ms(self) -> int | None:
        """When the next pending or held delivery is due."""
        async with self.db.read() as conn:
            return await conn.scalar(
                select(func.min(tables.deliveries.c.next_attempt_ms)).where(tables.deliveries.c.state.in_(WAITING))
            )

    async def pump(self) -> int:
        """Attempt every delivery that is due, oldest first, until none is; how many attempts were made.

        It goes round again because a delivery can release a held one that is then due at once.
        """
        async with self._pump_lock:
            attempted = 0
            while due := await self._due(self.clock.now_ms()):
                for row in due:
                    await self._attempt(row, self.clock.now_ms())
                attempted += len(due)
            return attempted

    async def _due(self, now: int) -> list[Any]:
        async with self.db.read() as conn:
            return list(await conn.execute(_DUE, {"now": now}))

    async def _attempt(self, row: Any, now: int) -> None:
        registration = self.registrations.get(row.customer_number)
        values: dict[str, Any]
        tried: dict[str, Any] | None = None
        if registration is None or registration.url != row.url:
            values = {"state": DROPPED, "last_error": "the receiver was removed or replaced", "next_attempt_ms": None}
        else:
            started = time.perf_counter()
            status, error, signature = await self._send(registration, row)
            attempts = row.attempts + 1
            shaped = row.fault is not None and (row.fault != "withhold" or attempts <= row.withheld)
            tried = {
                "delivery_seq": row.seq,
                "attempt": attempts,
                "at_ms": now,
                "status": status,
                "error": error,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "signature": signature,
                "fault": row.fault if shaped else None,
            }
            values = {"attempts": attempts, "last_status": status, "last_error": error}
            if status is not None and 200 <= status < 300:
                values |= {"state": DELIVERED, "delivered_ms": self.clock.now_ms(), "next_attempt_ms": None}
            elif attempts >= self.profile.webhook_max_attempts or self.profile.misbehave.no_redelivery:
                values |= {"state": FAILED, "next_attempt_ms": None}
                log.warning("webhook %s to %s failed after %d attempts", row.event_id, row.url, attempts)
            else:
                values |= {"state": PENDING, "next_attempt_ms": later(now, self._backoff_ms(row.seq, attempts))}
        async with self.db.write() as conn:
            await conn.execute(_ATTEMPTED, {**values, "where_seq": row.seq})
            if tried is not None:
                await conn.execute(_TRIED, tried)
            if values.get("state") == DELIVERED:
                await self._release_held(conn, row, now)
        if self.hub.listening:
            self.hub.publish("delivery", _attempt_event(row, values["state"], tried))

    async def _send(self, registration: Registration, row: Any) -> tuple[int | None, str | None, str | None]:
        """POST the event, unless a withhold fault fails this attempt; a duplicate fault POSTs it twice.

        The status, the error, and how the event was signed (None: nothing was sent).
        """
        if row.attempts < row.withheld:
            return None, f"injected fault withhold: attempt {row.attempts + 1} of {row.withheld} withheld", None
        body = row.body.encode()
        if self.profile.misbehave.malformed_events:
            body = without_occurred_at(body)  # as sent only: the delivery log keeps the event whole
        status, error = await self._post(registration, body, row.event_id)
        if row.fault == "duplicate" and status is not None and 200 <= status < 300:
            await self._post(registration, body, row.event_id)  # the same event id, right after
        return status, error, "body-only" if self.profile.misbehave.sign_body_only else "sent"

    async def _release_held(self, conn: Conn, row: Any, now: int) -> None:
        """Events a reorder fault held back for this customer go now, after this later one."""
        await conn.execute(_RELEASE, {"where_customer": row.customer_number, "where_seq": row.seq, "now": now})

    def _backoff_ms(self, seq: int, attempts: int) -> int:
        """Exponential backoff with a seeded jitter of up to a tenth."""
        # Keyed by the delivery's sequence number, not its event id: the id carries the run id,
        # which is random, and the same seed must replay the same retries.
        base = self.profile.webhook_backoff_ms * 2 ** (attempts - 1)
        return int(base * (1 + rng_for(self.seed, "backoff", seq, attempts).uniform(0, 0.1)))

    async def _post(self, registration: Registration, body: bytes, event_id: str) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.profile.webhook_timeout_s))
        # Signed with the real time of sending, not the virtual clock: the receiver's replay window is real.
        sign = body_only_signature if self.profile.misbehave.sign_body_only else signed_headers
        headers = {
            "Content-Type": "application/json",
            "X-Event-Id": event_id,
            **sign(registration.secret, body, int(time.time())),
        }
        try:
            async with self._session.post(registration.url, data=body, headers=headers) as response:
                await response.read()
                return response.status, None if response.status < 300 else f"HTTP {response.status}"
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]

    async def deliveries(self, customer_number: str | None, state: str | None, limit: int) -> list[dict[str, Any]]:
        """The delivery log for the admin API."""
        query = select(tables.deliveries).order_by(tables.deliveries.c.seq).limit(limit)
        if customer_number:
            query = query.where(tables.deliveries.c.customer_number == customer_number)
        if state:
            query = query.where(tables.deliveries.c.state == state)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]

    async def for_order(self, order_id: str) -> list[dict[str, Any]]:
        """The order's events, oldest first, each with every delivery attempt made."""
        needle = orjson.dumps({"orderId": order_id}).decode()[1:-1]  # the events' compact JSON names it so
        found = select(tables.deliveries).where(tables.deliveries.c.body.contains(needle, autoescape=True))
        async with self.db.read() as conn:
            rows = (await conn.execute(found.order_by(tables.deliveries.c.seq))).all()
            tried = await conn.execute(
                select(tables.attempts)
                .where(tables.attempts.c.delivery_seq.in_([r.seq for r in rows]))
                .order_by(tables.attempts.c.attempt)
            )
            by_seq: dict[int, list[dict[str, Any]]] = {}
            for a in tried:
                by_seq.setdefault(a.delivery_seq, []).append(_attempt(a))
        return [{**_delivery(r), "attemptLog": by_seq.get(r.seq, [])} for r in rows]

    async def waiting(self, limit: int) -> list[tuple[int, str]]:
        """The next pending or held deliveries: (when, which event)."""
        column = tables.deliveries.c.next_attempt_ms
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(column, tables.deliveries.c.event_type, tables.deliveries.c.event_id)
                .where(tables.deliveries.c.state.in_(WAITING))
                .order_by(column)
                .limit(limit)
            )
            return [(at, f"webhook {kind} {event_id}") for at, kind, event_id in rows]


def _delivery(r: Any) -> dict[str, Any]:
    return {
        "eventId": r.event_id,
        "type": r.event_type,
        "customerNumber": r.customer_number,
        "url": r.url,
        "state": r.state,
        "attempts": r.attempts,
        "lastStatus": r.last_status,
        "lastError": r.last_error,
        "createdAt": format_timestamp(r.created_ms),
        "nextAttemptAt": format_timestamp(r.next_attempt_ms) if r.next_attempt_ms is not None else None,
        "deliveredAt": format_timestamp(r.delivered_ms) if r.delivered_ms is not None else None,
        "fault": r.fault,
        "event": orjson.loads(r.body),
    }


def _attempt(a: Any) -> dict[str, Any]:
    return {
        "attempt": a.attempt,
        "at": format_timestamp(a.at_ms),
        "status": a.status,
        "error": a.error,
        "latencyMs": a.latency_ms,
        "signature": a.signature,
        "fault": a.fault,
    }


def _attempt_event(row: Any, state: str, tried: dict[str, Any] | None) -> dict[str, Any]:
    """A delivery attempt as the dashboard shows it live: never the receiver's URL, which may hold a secret."""
    data = orjson.loads(row.body).get("data", {})
    event = {"eventId": row.event_id, "type": row.event_type, "customerNumber": row.customer_number, "state": state}
    event["orderId"] = data.get("orderId")
    if tried is not None:
        event |= {k: tried[k] for k in ("attempt", "status", "error", "signature", "fault")}
        event |= {"latencyMs": tried["latency_ms"], "at": format_timestamp(tried["at_ms"])}
    return event
