"""`orderportal sim --workers N`: a parent forks N simulators listening on one port and supervises them.

Each worker listens on its own socket with SO_REUSEPORT, so the kernel spreads new connections
evenly over them (one shared socket would hand most to whichever worker wakes first). The parent
holds the port bound, without listening, so that port 0 becomes one port for all. The workers
share their state in PostgreSQL (supplier_sim.cluster). A worker that dies is replaced; SIGINT or
SIGTERM stops them all.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BACKLOG = 2048


class WorkersFailed(RuntimeError):
    """A worker exited before it served: the reason is on its stderr."""


class Supervisor:
    def __init__(self, config: SimConfig, address: tuple[str, int], read_timeout_s: float) -> None:
        self.config = config
        self.address = address
        self.read_timeout_s = read_timeout_s
        self._context = multiprocessing.get_context("fork")  # no re-import: a worker starts in a second
        self._ready: Queue[int] = self._context.Queue()
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def spawn(self) -> BaseProcess:
        worker = self._context.Process(
            target=_worker, args=(self.config, self.address, self.read_timeout_s, self._ready), daemon=False
        )
        worker.start()
        self.workers.append(worker)
        return worker

    def wait_ready(self, count: int) -> list[int]:
        """The pids of ``count`` workers once each serves; WorkersFailed if one exits first."""
        pids: list[int] = []
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(pids) < count:
            if self.stopping:  # Ctrl-C or SIGTERM while the workers start (one may wait for the database)
                raise WorkersFailed("stopped before every worker served")
            if time.monotonic() > deadline:
                raise WorkersFailed(f"not every worker served within {START_TIMEOUT_S:g} s; is the database busy?")
            dead = [w for w in self.workers if w.exitcode is not None]
            if dead:
                raise WorkersFailed(f"worker {dead[0].pid} exited with code {dead[0].exitcode} before it served")
            try:
                pids.append(self._ready.get(timeout=0.2))
            except Exception:  # queue.Empty: look at the workers again
                continue
        return pids

    def supervise(self, told: Callable[[str], None]) -> None:
        """Replace a worker that dies, until told to stop."""
        while not self.stopping:
            wait([w.sentinel for w in self.workers], timeout=0.5)
            for worker in [w for w in self.workers if w.exitcode is not None]:
                self.workers.remove(worker)
                if not self.stopping:
                    replacement = self.spawn()
                    told(f"worker {worker.pid} exited ({worker.exitcode}); worker {replacement.pid} replaces it")

    def stop(self, *_: object) -> None:
        self.stopping = True

    def terminate(self) -> None:
        for worker in self.workers:
            if worker.exitcode is None and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            worker.join(STOP_TIMEOUT_S)
            if worker.exitcode is None:
                worker.kill()
                worker.join()


def reserve(host: str, port: int) -> socket.socket:
    """The port, bound and kept (port 0 becomes a free one); connections go only to the workers' sockets."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _listen(address: tuple[str, int]) -> socket.socket:
    sock = reserve(*address)
    sock.listen(BACKLOG)
    return sock


def run(
    config: SimConfig,
    address: tuple[str, int],
    count: int,
    read_timeout_s: float,
    ready: Callable[[list[int]], None],
    told: Callable[[str], None],
) -> None:
    """Start ``count`` workers, call ``ready`` with their pids, and supervise them until SIGINT or SIGTERM."""
    supervisor = Supervisor(config, address, read_timeout_s)
    previous = {sig: signal.signal(sig, supervisor.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(count):
            supervisor.spawn()
        ready(supervisor.wait_ready(count))
        supervisor.supervise(told)
    finally:
        supervisor.terminate()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker(config: SimConfig, address: tuple[str, int], read_timeout_s: float, ready: Queue[int]) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    asyncio.run(_serve(config, _listen(address), read_timeout_s, ready))


async def _serve(config: SimConfig, sock: socket.socket, read_timeout_s: float, ready: Queue[int]) -> None:
    server = SimServer(config, read_timeout_s=read_timeout_s, sock=sock)
    await server.start()
    gc.freeze()  # as a single simulator does: the catalog and the libraries stay out of full collections
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready.put(os.getpid())
    try:
        await stop.wait()
    finally:
        await server.stop()
