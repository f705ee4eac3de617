"""Serving on a socket, for both apps: a client that stalls in its headers or its body is dropped in bounded time.

aiohttp has no header-read timeout of its own. Its keep-alive timer does the work: it starts when a connection
opens (aiohttp/aiohttp#13681; 3.14.5 has it, hence the floor in pyproject.toml) and again after each answer, and it
closes the connection if no request's headers are complete when it fires, however many bytes trickled in meanwhile.
So ``keepalive_timeout`` bounds the time to send the headers. The body is read by ``body_deadline`` within the same
bound before any handler runs; a stalled upload gets a 408 and, after ``lingering_time`` (the same bound again), its
connection is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import click
from aiohttp import web

READ_TIMEOUT_S = 30.0  # longer than aiohttp's client keep-alive (15 s), so an idle client always hangs up first


def app_runner(app: web.Application, read_timeout_s: float = READ_TIMEOUT_S) -> web.AppRunner:
    """A runner whose connections must deliver each request's headers, and then its body, within the bound."""
    if not 0 < read_timeout_s <= 3600:
        raise ValueError(f"the read timeout must be from above 0 to 3600 seconds, not {read_timeout_s}")
    return web.AppRunner(app, access_log=None, keepalive_timeout=read_timeout_s, lingering_time=read_timeout_s)


@web.middleware
async def body_deadline(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The whole body arrives within the connection's read bound, or the request ends in a 408."""
    if request.body_exists:
        try:
            async with asyncio.timeout(request.protocol.keepalive_timeout):
                await request.read()  # kept by aiohttp: the handler's own read() returns it at once
        except TimeoutError:
            raise web.HTTPRequestTimeout(reason="the request body did not arrive in time") from None
    return await handler(request)


read_timeout_option = click.option(
    "--read-timeout",
    "read_timeout_s",
    default=READ_TIMEOUT_S,
    show_default=True,
    type=click.FloatRange(0, 3600, min_open=True),
    help="Seconds a client has to send a request's headers, and again its body, before it is dropped.",
)
