"""The webhook receiver certification runs: it keeps each delivery and refuses each event's first one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from contracts.signing import SIGNATURE, TIMESTAMP

PATH = "/certify-webhook"


@dataclass
class Delivery:
    body: bytes
    signature: str | None
    timestamp: str | None
    event_id: str | None
    answered: int
    received_s: float  # the real time it arrived, to judge the signature's freshness

    def evidence(self) -> dict[str, Any]:
        """The delivery as a report shows it: an event carries no secret, and its signature is only a MAC."""
        try:
            body: Any = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            body = self.body.decode("utf-8", "replace")
        headers = {SIGNATURE: self.signature, TIMESTAMP: self.timestamp}
        return {"delivery": {"headers": headers, "body": body, "answered": self.answered}}


@dataclass
class Receiver:
    """Answers 503 to the first delivery of every event, so that the server must deliver it again."""

    host: str = "127.0.0.1"
    port: int = 0
    public_url: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(PATH, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        return self.public_url or f"http://{self.host}:{self.port}{PATH}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event_id = orjson.loads(body).get("eventId")
        except (orjson.JSONDecodeError, AttributeError):
            event_id = None
        event_id = event_id if isinstance(event_id, str) else None  # an id of another type identifies nothing
        first = all(d.event_id != event_id for d in self.deliveries)
        status = 503 if first and event_id else 204
        signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
        self.deliveries.append(Delivery(body, signature, timestamp, event_id, status, time.time()))
        return web.Response(status=status)
