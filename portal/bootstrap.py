"""Wiring: the one place that knows both the domain's services and the real adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from contracts.serving import READ_TIMEOUT_S, app_runner
from portal.adapters.database import Engine, create_schema, make_engine
from portal.adapters.supplier_client import SupplierClient
from portal.adapters.unit_of_work import SqlUnitOfWork
from portal.domain.errors import IllegalState
from portal.domain.setup import Credentials, CustomerNumber, Supplier
from portal.entrypoints.app import create_app
from portal.entrypoints.worker import sync
from portal.service_layer.context import Portal
from portal.service_layer.retry import RetryPolicy
from portal.state import PortalState

log = logging.getLogger("portal.worker")


@dataclass
class PortalServer:
    """The portal on a real socket: start() gives its URL, which is also where suppliers push events."""

    db_url: str = "sqlite+aiosqlite:///orderportal.db"
    host: str = "127.0.0.1"
    port: int = 0
    timeout_s: float = 10.0
    webhooks: bool = True
    public_url: str | None = None  # where suppliers reach this portal; the listening URL when None
    sync_interval_s: float | None = 30.0  # how often the worker delivers the outbox and catches up; None: never
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    seed: int = 0
    read_timeout_s: float = READ_TIMEOUT_S  # a client has this long for a request's headers, and again for its body
    url: str = ""
    portal: Portal = field(init=False)
    _engine: Engine = field(init=False)
    _session: aiohttp.ClientSession = field(init=False)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _clients: dict[tuple[str, str, Credentials], SupplierClient] = field(default_factory=dict, init=False)
    _worker: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> str:
        self._engine = make_engine(self.db_url)
        try:
            await create_schema(self._engine)
        except BaseException:
            await self._engine.dispose()
            raise
        self._session = aiohttp.ClientSession()
        self.portal = Portal(
            lambda: SqlUnitOfWork(self._engine, self.portal.events),
            self._client,
            rng=random.Random(self.seed),
            retry=self.retry,
        )
        self._runner = app_runner(create_app(self.portal), self.read_timeout_s)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:  # the port is taken, say: nothing is left open behind the error
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
        if self.webhooks:
            self.portal.webhook_base_url = (self.public_url or self.url).rstrip("/")
        if self.sync_interval_s is not None:
            self._worker = asyncio.create_task(self._sync_forever(self.sync_interval_s))
        return self.url

    def state(self) -> PortalState:
        """The portal's state that its HTTP API does not show, read-only, for tests and the harness."""
        return PortalState(self.portal)

    async def sync(self) -> dict[str, dict[str, int]]:
        """One round of the worker: deliver the outbox's due orders, then catch up with every supplier."""
        return await sync(self.portal)

    async def _sync_forever(self, interval_s: float) -> None:
        """From the start (a restart resends what a crash left in the outbox), and every ``interval_s``."""
        while True:
            try:
                log.info("worker round: %s", await self.sync())
            except Exception:  # a round that fails is logged; the next one tries again
                log.exception("the worker's round failed")
            await asyncio.sleep(interval_s)

    def _client(self, supplier: Supplier, customer: CustomerNumber) -> SupplierClient:
        """One client per supplier URL, customer number and credentials, so that a token is reused."""
        if not supplier.base_url:
            raise IllegalState(f"supplier {supplier.name} has no baseUrl")
        key = (supplier.base_url, customer.number, customer.credentials)
        if key not in self._clients:
            self._clients[key] = SupplierClient(
                self._session, *key, timeout_s=self.timeout_s, retry=self.retry, seed=self.seed
            )
        return self._clients[key]

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            await self._session.close()
            await self._engine.dispose()

    async def __aenter__(self) -> PortalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
