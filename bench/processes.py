"""The servers under test as child processes: started from ``servers``, awaited, and stopped on exit."""

from __future__ import annotations

import contextlib
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from supplier_api import PAGE_QUERY, PRODUCTS_PATH, http

HERE = Path(__file__).resolve().parent
START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Child:
    """A server in a child process, with the URL it printed and the file its stderr goes to."""

    label: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path


def start_child(label: str, function: str, argv: list[str], log: Path, stack: contextlib.ExitStack) -> Child:
    """Start ``servers.<function>(*argv)`` in a new process; wait for the URL it prints."""
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import servers; servers.{function}(*sys.argv[1:])"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *argv],
            stdout=subprocess.PIPE,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C reaches only us
        )
    stack.callback(stop_child, proc)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("http://"):
        raise RuntimeError(f"{label} did not start; its stderr:\n{log.read_text(errors='replace')}")
    child = Child(label, proc, line, log)
    wait_until_answering(child)
    return child


def wait_until_answering(child: Child) -> None:
    """Poll the products page until the child answers 200."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            http(child.url + PRODUCTS_PATH + PAGE_QUERY)
            return
        except (OSError, RuntimeError):
            if child.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{child.label} at {child.url} does not answer") from None
            time.sleep(0.1)


def stop_child(proc: subprocess.Popen[bytes]) -> None:
    """Terminate one child process, killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
