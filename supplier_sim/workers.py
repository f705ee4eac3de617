"""`orderportal sim --workers N`: a parent forks N simulators listening on one port and supervises them.

Each worker listens on its own socket with SO_REUSEPORT, so the kernel spreads new connections
evenly over them (one shared socket would hand most to whichever worker wakes first). The parent
holds the port bound, without listening, so that port 0 becomes one port for all. The workers
share their state in PostgreSQL (supplier_sim.cluster). A worker that dies is replaced, later each
time when workers keep dying young (the database is down, say); SIGINT or SIGTERM stops them all.
A worker whose parent is gone (killed with SIGKILL, which it cannot catch) stops too, so that no
orphan keeps serving the port.
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
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from supplier_sim.cluster import Cluster
from supplier_sim.config import SimConfig
from supplier_sim.server import SimServer

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BACKLOG = 2048
PARENT_CHECK_S = 0.2  # how often a worker looks whether its parent still lives
STEADY_S = 10.0  # a worker that served this long died of something else than starting
FIRST_RESPAWN_PAUSE_S = 0.5
LONGEST_RESPAWN_PAUSE_S = 30.0


def respawn_pause_s(young_deaths: int) -> float:
    """How long to wait before replacing a worker, after ``young_deaths`` deaths in a row soon after starting.

    The first replacement starts at once; then the pause doubles, up to LONGEST_RESPAWN_PAUSE_S.
    """
    if young_deaths <= 1:
        return 0.0
    return min(FIRST_RESPAWN_PAUSE_S * 2 ** (young_deaths - 2), LONGEST_RESPAWN_PAUSE_S)


@dataclass
class Respawns:
    """How long each replacement waits: at once, unless workers keep dying young."""

    young_deaths: int = 0  # deaths in a row within STEADY_S of starting
    calm_at: float = 0.0  # when the last replacement will have served STEADY_S: the run of deaths is over then

    def pause_s(self, lived_s: float, now: float) -> float:
        """The pause before replacing a worker that died ``now`` after serving ``lived_s``."""
        young = lived_s < STEADY_S
        self.young_deaths = self.young_deaths + 1 if young and now < self.calm_at else 1
        pause = respawn_pause_s(self.young_deaths)
        self.calm_at = now + pause + STEADY_S
        return pause


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
        self._born: dict[int | None, float] = {}  # when each worker started, by pid
        self._respawns = Respawns()
        self._due: list[float] = []  # when the replacements waiting out their pause start

    def spawn(self) -> BaseProcess:
        args = (self.config, self.address, self.read_timeout_s, self._ready, os.getpid())
        worker = self._context.Process(target=_worker, args=args, daemon=False)
        worker.start()
        self.workers.append(worker)
        self._born[worker.pid] = time.monotonic()
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
        """Replace a worker that dies, until told to stop; later each time while workers keep dying young."""
        while not self.stopping:
            now = time.monotonic()
            for at in sorted(self._due):
                if at > now:
                    break
                self._due.remove(at)
                told(f"worker {self.spawn().pid} starts, in place of one that exited")
            timeout = min([0.5, *(at - now for at in self._due)])
            wait([w.sentinel for w in self.workers], timeout=max(timeout, 0.0))
            for worker in [w for w in self.workers if w.exitcode is not None]:
                self.workers.remove(worker)
                if self.stopping:
                    continue
                died = time.monotonic()
                pause = self._respawns.pause_s(died - self._born.pop(worker.pid, 0.0), died)
                gone = f"worker {worker.pid} exited ({worker.exitcode})"
                if pause:
                    self._due.append(time.monotonic() + pause)
                    told(f"{gone}; workers keep dying young: a new one starts in {pause:g} s")
                else:
                    told(f"{gone}; worker {self.spawn().pid} replaces it")

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


def _worker(config: SimConfig, address: tuple[str, int], read_timeout_s: float, ready: Queue[int], parent: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    Cluster.exit_on_loss = True  # in this worker's own process: its parent replaces it
    asyncio.run(_serve(config, _listen(address), read_timeout_s, ready, parent))


async def _serve(config: SimConfig, sock: socket.socket, read_timeout_s: float, ready: Queue[int], parent: int) -> None:
    server = SimServer(config, read_timeout_s=read_timeout_s, sock=sock)
    await server.start()
    gc.freeze()  # as a single simulator does: the catalog and the libraries stay out of full collections
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watch = asyncio.create_task(_orphaned(parent, stop))
    ready.put(os.getpid())
    try:
        await stop.wait()
    finally:
        watch.cancel()
        await server.stop()


async def _orphaned(parent: int, stop: asyncio.Event) -> None:
    """Stop the worker once its parent is gone: the kernel gives an orphan another parent."""
    while os.getppid() == parent:  # noqa: ASYNC110 - no event tells of a parent's death
        await asyncio.sleep(PARENT_CHECK_S)
    stop.set()
