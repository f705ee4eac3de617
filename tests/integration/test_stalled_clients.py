"""A client that stalls in its headers or its body is dropped within the server's read bound, on both servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from supplier_sim import SimServer

BOUND_S = 0.5
GIVE_UP_S = 5.0  # ten times the bound: only a server that never drops the client takes this long


@pytest.fixture(params=["simulator", "portal"])
async def server_url(request: pytest.FixtureRequest, start_portal: Callable[..., Awaitable]) -> AsyncIterator[str]:
    if request.param == "portal":
        yield (await start_portal(read_timeout_s=BOUND_S)).url
        return
    sim = SimServer(read_timeout_s=BOUND_S)
    yield await sim.start()
    await sim.stop()


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def dropped_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes = b"") -> bytes:
    """Everything the server sends until it closes the connection; a trickle keeps arriving, byte by byte, meanwhile."""

    async def drip() -> None:
        for byte in trickle:
            writer.write(bytes([byte]))
            await asyncio.sleep(BOUND_S / 5)

    dripping = asyncio.create_task(drip())
    try:
        async with asyncio.timeout(GIVE_UP_S):
            return await reader.read()  # b"" once the server has closed
    finally:
        dripping.cancel()
        writer.close()


async def test_a_client_that_stops_in_the_middle_of_its_headers_is_dropped(server_url: str) -> None:
    reader, writer = await connect(server_url)
    writer.write(b"GET /api/openapi.yaml HTTP/1.1\r\nHost: x\r\nX-Half: ")
    assert await dropped_after(reader, writer) == b""


async def test_a_client_that_trickles_its_headers_is_dropped_all_the_same(server_url: str) -> None:
    reader, writer = await connect(server_url)
    writer.write(b"GET / HTTP/1.1\r\n")
    assert await dropped_after(reader, writer, trickle=b"X-Slow: " + b"a" * 200) == b""


async def test_a_client_that_stalls_in_its_body_gets_a_408_problem_and_is_dropped(server_url: str) -> None:
    reader, writer = await connect(server_url)
    writer.write(b"POST /api/org-units HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    writer.write(b'Content-Length: 100\r\n\r\n{"code": ')
    answer = await dropped_after(reader, writer)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and b"application/problem+json" in head
    assert json.loads(body)["status"] == 408


async def test_an_idle_keep_alive_connection_is_closed_after_the_bound_and_a_quick_client_is_served(
    server_url: str,
) -> None:
    reader, writer = await connect(server_url)
    writer.write(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await dropped_after(reader, writer)
    assert answer.startswith(b"HTTP/1.1 4")  # answered in full, then dropped once idle for the bound
