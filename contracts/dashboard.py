"""What both apps' live dashboards share: one jinja2 set-up, the page layout, and a bounded Server-Sent Events fan-out.

A dashboard must never slow the API it watches. Publishing is an append to each subscriber's bounded deque,
with nothing encoded. Each subscriber's stream encodes the newest events of a short tick, in its own task,
and drops what a slow browser could not take. The page is then told to reload what it missed. The number of
subscribers is bounded too, so a page opened many times cannot put a cost on each request.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

if TYPE_CHECKING:
    import jinja2

MAX_SUBSCRIBERS = 8
BACKLOG = 200  # events a subscriber holds between two ticks; older ones are dropped and counted
TICK_S = 0.25  # events are batched this long: a browser gets at most four messages a second
HEARTBEAT_S = 15.0  # a comment line this often, so proxies and the browser keep the stream open
PROBE_S = 1.0  # a closed page gives its place back within this long, not at the next write
Render = Callable[[str, Any], dict[str, Any] | None]


class Subscriber:
    """One open stream's queue: bounded, so a browser that stops reading costs a fixed amount of memory."""

    __slots__ = ("dropped", "events", "kinds", "wake")

    def __init__(self, size: int, kinds: frozenset[str] | None = None) -> None:
        self.kinds = kinds  # the kinds of event this page shows; None: all of them
        self.events: deque[tuple[str, Any]] = deque(maxlen=size)
        self.dropped = 0
        self.wake = asyncio.Event()


class EventHub:
    """Fan-out of an app's events to at most ``limit`` dashboards; with none open, publishing costs a length test."""

    def __init__(self, limit: int = MAX_SUBSCRIBERS, backlog: int = BACKLOG) -> None:
        self.limit = limit
        self.backlog = backlog
        self._subscribers: list[Subscriber] = []
        self.closed = False

    def close(self) -> None:
        """Ends every stream: an app's ``on_shutdown`` calls it, or a stopping server would wait for open pages."""
        self.closed = True
        for subscriber in self._subscribers:
            subscriber.wake.set()

    @property
    def listening(self) -> bool:
        """Whether anyone is subscribed: a publisher checks it before it builds an event."""
        return bool(self._subscribers)

    def wants(self, kind: str) -> bool:
        """Whether any open page shows ``kind``: a publisher of many events checks it before it builds one."""
        return any(s.kinds is None or kind in s.kinds for s in self._subscribers)

    def publish(self, kind: str, item: Any) -> None:
        """Hand ``item`` to every subscriber that shows its kind, unencoded; a full queue drops its oldest event."""
        for subscriber in self._subscribers:
            if subscriber.kinds is not None and kind not in subscriber.kinds:
                continue
            if len(subscriber.events) == self.backlog:
                subscriber.dropped += 1
            subscriber.events.append((kind, item))
            subscriber.wake.set()

    def subscribe(self, kinds: frozenset[str] | None = None) -> Subscriber:
        if len(self._subscribers) >= self.limit:
            raise TooManySubscribers(self.limit)
        subscriber = Subscriber(self.backlog, kinds)
        self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)


class TooManySubscribers(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} dashboards may follow this server at once; close one and reload")
        self.limit = limit


async def event_stream(
    request: web.Request, hub: EventHub, render: Render, tick_s: float = TICK_S
) -> web.StreamResponse:
    """``text/event-stream`` of the hub's events, each rendered to JSON by ``render`` (None leaves it out).

    Events of one tick go out as one message per kind, ``data`` holding the list of rendered items. After
    drops, a ``lagged`` event says how many, so the page reloads rather than showing a gap. A page that
    shows only some kinds names them (``?kinds=order,clock``), so that others neither queue nor crowd them out.
    """
    kinds = request.query.get("kinds")
    try:
        subscriber = hub.subscribe(frozenset(kinds.split(",")) if kinds else None)
    except TooManySubscribers as exc:
        raise web.HTTPServiceUnavailable(reason=str(exc)) from None
    try:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        await response.write(b"retry: 2000\nevent: hello\ndata: {}\n\n")
        idle_s = 0.0
        while not hub.closed:
            try:
                async with asyncio.timeout(PROBE_S):
                    await subscriber.wake.wait()
            except TimeoutError:
                if request.transport is None or request.transport.is_closing():
                    return response  # the page is gone: its place in the bounded fan-out is free again
                idle_s += PROBE_S
                if idle_s >= HEARTBEAT_S:
                    idle_s = 0.0
                    await response.write(b": heartbeat\n\n")
                continue
            if hub.closed:
                return response
            await asyncio.sleep(tick_s)  # the events of the next moments ride in the same message
            subscriber.wake.clear()
            batch, subscriber.events = list(subscriber.events), deque(maxlen=hub.backlog)
            dropped, subscriber.dropped = subscriber.dropped, 0
            await response.write(_encode(batch, dropped, render))
        return response
    except ConnectionResetError:  # the page was closed: nobody is left to tell
        return response
    finally:
        hub.unsubscribe(subscriber)


def _encode(batch: list[tuple[str, Any]], dropped: int, render: Render) -> bytes:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for kind, item in batch:
        rendered = render(kind, item)
        if rendered is not None:
            grouped.setdefault(kind, []).append(rendered)
    parts = [b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps(items)) for kind, items in grouped.items()]
    if dropped:
        parts.append(b"event: lagged\ndata: %s\n\n" % orjson.dumps({"dropped": dropped}))
    return b"".join(parts)


@functools.cache
def environment(package: str) -> jinja2.Environment:
    """``package``'s templates over the shared layout in ``contracts/templates``: autoescaped and strict."""
    import jinja2  # only a dashboard page needs it

    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader(package, "templates"), jinja2.PackageLoader("contracts", "templates")]
        ),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


@functools.cache
def _asset(name: str) -> str:
    return (resources.files("contracts") / "templates" / "dashboard" / name).read_text("utf-8")


def page(package: str, template: str, **context: Any) -> web.Response:
    """A dashboard page: ``template`` extends ``dashboard/base.html.j2``, which inlines its stylesheet and script.

    Both are our own text and inlined, so the page fetches nothing from elsewhere and works offline.
    """
    from markupsafe import Markup

    html = (
        environment(package)
        .get_template(template)
        .render(stylesheet=Markup(_asset("dashboard.css")), script=Markup(_asset("dashboard.js")), **context)
    )
    return web.Response(
        text=html,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            # Inline style and script are ours; nothing else may run or load, whatever a value holds.
            "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'",
            "X-Content-Type-Options": "nosniff",
        },
    )
