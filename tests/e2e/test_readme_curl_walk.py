"""The README's curl walk runs as it stands, against the simulator and the portal started as the README starts them.

The walk is the `sh` block after the `<!-- curl-walk -->` marker; the start-up commands are the block before it.
Each app gets a free port instead of 8080 and 8081, and the walk's addresses are replaced by the ones they got:
that is the only change. Every curl has `-f` and the block runs under `set -euo pipefail`, so any refused step,
or an id a step could not find, fails the test.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

README = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
MARKER = "<!-- curl-walk -->"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
PORTS = {"sim": "8080", "portal": "8081"}


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def walk() -> str:
    return sh_blocks(README[README.index(MARKER) :])[0]


def start_commands() -> dict[str, list[str]]:
    """The README's `orderportal sim` and `orderportal portal` lines before the walk, by app, on port 0."""
    block = sh_blocks(README[: README.index(MARKER)])[-1]
    found = {}
    for line in block.splitlines():
        args = shlex.split(line.split(" #", 1)[0].removesuffix("&").strip())
        assert args[0] == ".venv/bin/orderportal", line
        app = args[1]
        args[args.index("--port") + 1] = "0"
        found[app] = [sys.executable, "-m", "scenarios.command", *args[1:]]
    assert set(found) == set(PORTS)
    return found


@contextmanager
def running(command: list[str], cwd: Path) -> Iterator[str]:
    """The app as a process; its URL from the first line it prints. The rest of its output is drained."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=cwd
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first + process.stdout.read()
        threading.Thread(target=process.stdout.read, daemon=True).start()
        try:
            yield match.group(0)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_the_readme_shows_a_curl_walk_through_the_whole_manual() -> None:
    steps = walk()
    for path in ("/couple", "/orderportal/open", "/lines/", "/update-products", "/create-stock-orders", "/book"):
        assert path in steps
    for path in ("/send", "/_sim/clock/advance", "/dispatch-notifications", "/receipt", "/stock-levels"):
        assert path in steps
    assert all(
        line.startswith(("#", "P=", "S=", "J=", "id()")) or "curl -fsS" in line for line in steps.splitlines() if line
    )


def test_the_readmes_curl_walk_runs_to_the_stock_levels(tmp_path: Path) -> None:
    commands = start_commands()
    with ExitStack() as stack:
        urls = {app: stack.enter_context(running(commands[app], tmp_path)) for app in PORTS}
        script = walk()
        for app, port in PORTS.items():
            script = script.replace(f"http://127.0.0.1:{port}", urls[app])
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
    assert done.returncode == 0, f"the walk stopped: {done.stderr}\n{done.stdout}"
    assert '"state":"COUPLED"' in done.stdout and '"status":"ACCEPTED"' in done.stdout
    levels = re.search(r'\{"items":\[\{"warehouseId":\d+,[^\]]*\]\}$', done.stdout)
    assert levels, done.stdout[-500:]
    assert re.search(r'"productNumber":"\d+-SP0100008","productName":"[^"]+","quantity":12\}', levels.group()), levels
