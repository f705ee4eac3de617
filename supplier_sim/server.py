"""A simulator on a real socket, for tests, the demo and the CLI: start() gives its URL."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp import web

from contracts.serving import READ_TIMEOUT_S, app_runner
from supplier_sim.app import create_app
from supplier_sim.config import SimConfig
from supplier_sim.simulator import Simulator
from supplier_sim.typedefs import ERRORS, SIM


class SimServer:
    def __init__(
        self,
        config: SimConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        read_timeout_s: float = READ_TIMEOUT_S,
        sock: socket.socket | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.host = host
        self.port = port
        self.sock = sock  # a listening socket other workers accept on too (orderportal sim --workers)
        self.read_timeout_s = read_timeout_s  # a client has this long for a request's headers, and again for its body
        self.app = create_app(self.config)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self._runner = app_runner(self.app, self.read_timeout_s)
        await self._runner.setup()
        if self.sock is None:
            await web.TCPSite(self._runner, self.host, self.port).start()
        else:
            await web.SockSite(self._runner, self.sock).start()
        self.port = self._runner.addresses[0][1]  # the port that 0 became
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def sim(self) -> Simulator:
        return self.app[SIM]

    def check(self) -> None:
        """Re-raise what went wrong inside: handler crashes, and (strict) answers that broke the contract."""
        errors = [*self.app[ERRORS], *(self.sim.errors if SIM in self.app else [])]
        self.app[ERRORS].clear()
        if SIM in self.app:
            self.sim.errors.clear()
        if errors:
            listed = "\n".join(errors)
            raise AssertionError(f"the simulator recorded {len(errors)} error(s):\n{listed}")

    async def admin(self, session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> Any:
        """Call the admin API; raise on any error answer."""
        headers = {"X-Admin-Token": self.config.admin_token} if self.config.admin_token else {}
        async with session.request(
            method, f"{self.url}/_sim/{path.lstrip('/')}", headers=headers, **kwargs
        ) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"admin {method} {path} answered {response.status}: {body.get('detail')}")
            return body
