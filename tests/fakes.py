"""Fakes the tests share: the other side of the wire, on loopback."""

from __future__ import annotations

import json

from aiohttp import web


class Receiver:
    """A webhook receiver on loopback that fails its first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.attempts = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=503)
        self.received.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    def events(self) -> list[dict]:
        return [json.loads(body) for body, _ in self.received]
