"""Running wrk, the HTTP load generator, and reading what it reports."""

from __future__ import annotations

import argparse
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from supplier_api import AUTH

WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}

# One POST per request with a unique Idempotency-Key: <run prefix>-<thread>-<counter>.
ORDER_LUA = """
local body = [==[{body}]==]
local headers = {{
  ["Content-Type"] = "application/json",
  ["Authorization"] = "{auth}",
}}
local counter = 0
local threads = 0
local prefix = "run"

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  prefix = args[1] .. "-" .. thread_id
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = prefix .. "-" .. counter
  return wrk.format("POST", nil, headers, body)
end
"""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run reported."""

    rps: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def write_lua(name: str, order: bytes, directory: Path) -> Path:
    """The wrk script that POSTs the scenario's order with a fresh Idempotency-Key each time."""
    path = directory / f"{name.replace(' ', '-')}.lua"
    path.write_text(ORDER_LUA.format(body=order.decode(), auth=AUTH))
    return path


def run_wrk(args: argparse.Namespace, url: str, lua: Path | None, prefix: str, seconds: int) -> WrkResult:
    """One wrk run against ``url``; a POST script when ``lua`` is given."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    if lua is None:
        command += ["-H", f"Authorization: {AUTH}", url]
    else:
        command += ["-s", str(lua), url, "--", prefix]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> WrkResult:
    """Requests/sec, the 99% latency, and the error counts from wrk's text output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if not (rps and p99 and total):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * WRK_UNITS_MS[p99.group(2)],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )
