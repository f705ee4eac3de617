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
import signal
from collections.abc import Awaitable, Callable

import click
from aiohttp import web

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
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


def cross_site(request: web.Request) -> bool:
    """Whether a browser sent this request from a page of another origin: another site, or another port.

    A browser says where a request comes from (Sec-Fetch-Site, or else Origin). A client that is no browser
    (a harness, curl, a supplier's webhook) sends neither, and is not cross-site. ``same-site`` counts as
    cross: cookies ignore ports, so a page on another port of the same host is another party.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.host}"


def has_nul(request: web.Request) -> bool:
    """A NUL in the path or the query, decoded: PostgreSQL cannot store one, and no field of ours holds one."""
    return "\x00" in request.path or "\x00" in request.query_string


async def until_stopped(stop_server: Callable[[], Awaitable[None]]) -> None:
    """Serve until SIGINT or SIGTERM, then say so and stop the server: both apps' commands end this way."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        click.echo("stopping")
        await stop_server()
