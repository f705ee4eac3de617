"""What an open dashboard costs the Supplier API: the products page with none open, then with one following.

The follower is what a browser on /_sim/ui does: it loads the page once, then reads the event stream, in
which every request the load makes is published. Runs alternate, off then on, so that drift hits both.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from processes import Child
from supplier_api import PAGE_QUERY, PRODUCTS_PATH
from wrk import WrkResult, run_wrk

TARGET_RATIO = 0.95  # with a dashboard open, at least 95% of the rate without


@dataclass
class Follower:
    """A dashboard's event stream, read on a thread until stopped; how many bytes and batches it got."""

    url: str
    received: int = 0
    batches: int = 0
    lagged: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Follower:
        with urllib.request.urlopen(self.url + "/_sim/ui", timeout=10) as page:  # the page, as a browser loads it
            page.read()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _follow(self) -> None:
        target = urllib.parse.urlsplit(self.url)
        with socket.create_connection((target.hostname, target.port), timeout=0.5) as sock:
            sock.sendall(b"GET /_sim/ui/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            while not self._stop.is_set():
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                self.received += len(chunk)
                self.batches += chunk.count(b"event: exchange")
                self.lagged += chunk.count(b"event: lagged")


def measure_dashboard(args: argparse.Namespace, child: Child, run_id: str, rounds: int) -> tuple[float, float]:
    """Median products-page rates without and with a dashboard following ``child``; printed as they come."""
    url = child.url + PRODUCTS_PATH + PAGE_QUERY
    if args.warmup > 0:
        run_wrk(args, url, None, f"{run_id}-warm", args.warmup)
    off: list[WrkResult] = []
    on: list[WrkResult] = []
    for round_number in range(rounds):
        off.append(run_wrk(args, url, None, f"{run_id}-off-{round_number}", args.duration))
        print(f"  products page, no dashboard      {off[-1].rps:>9.1f} req/s  p99 {off[-1].p99_ms:7.2f} ms")
        with Follower(child.url) as follower:
            on.append(run_wrk(args, url, None, f"{run_id}-on-{round_number}", args.duration))
        print(
            f"  products page, dashboard open    {on[-1].rps:>9.1f} req/s  p99 {on[-1].p99_ms:7.2f} ms  "
            f"(stream: {follower.batches} batches, {follower.received} bytes, {follower.lagged} lagged)"
        )
        if follower.batches == 0:
            raise RuntimeError("the dashboard's stream carried no exchange: nothing was measured")
    without, with_one = statistics.median(r.rps for r in off), statistics.median(r.rps for r in on)
    ratio = with_one / without
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(
        f"\ndashboard cost: {without:.1f} req/s without, {with_one:.1f} req/s with one open and subscribed: "
        f"ratio {ratio:.3f} (target >= {TARGET_RATIO:.2f}) {verdict}"
    )
    return without, with_one
