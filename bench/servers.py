"""What the child processes serve: the simulator, and the bare aiohttp baseline beside it."""

from __future__ import annotations

import asyncio
import gc
import socket

import aiohttp
import orjson
from aiohttp import web
from supplier_api import AUTH, JSON, PAGE_QUERY, PRODUCTS_PATH, ROUTE

from supplier_sim import SimConfig, SimServer
from supplier_sim.profile import parse_profile


def serve_sim(db_url: str, catalog_size: str) -> None:
    """Child: run the simulator until killed; print its URL once it listens."""
    asyncio.run(_serve_sim(db_url, int(catalog_size)))


async def _serve_sim(db_url: str, catalog_size: int) -> None:
    profile = parse_profile({"catalog": {"size": catalog_size}}, base=None)
    config = SimConfig(profile=profile, seed=1, clock="virtual", db_url=db_url)
    server = SimServer(config, host="127.0.0.1", port=0)
    print(await server.start(), flush=True)
    gc.freeze()  # as `orderportal sim` does once it listens
    await asyncio.Event().wait()


def serve_baseline(sim_url: str) -> None:
    """Child: a bare aiohttp app with the simulator's products page and a no-op order POST."""
    asyncio.run(_serve_baseline(sim_url))


async def _serve_baseline(sim_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = sim_url + PRODUCTS_PATH + PAGE_QUERY
        async with session.get(url, headers={"Authorization": AUTH}) as response:
            response.raise_for_status()
            page = await response.read()

    async def products(_request: web.Request) -> web.Response:
        return web.Response(body=page, content_type=JSON)

    async def create_order(request: web.Request) -> web.Response:
        order = orjson.loads(await request.read())
        body = orjson.dumps({"orderId": "BASELINE", "lines": len(order["lines"])})
        return web.Response(body=body, status=201, content_type=JSON)

    app = web.Application()
    app.router.add_get(f"{ROUTE}/products", products)
    app.router.add_post(f"{ROUTE}/orders", create_order)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await asyncio.Event().wait()
