"""Webhook throughput and latency against a quickstart-style Flask app, both over loopback.

Measured twice: as usual, and while hostile connections are held open to the webhook (200 that
send nothing, 50 that dribble headers and 50 that dribble bodies, a byte a second).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from tests.bench.load import LoadResult, Shot, run_load
from tests.bench.results import Figure
from tests.helpers.hostile_connections import HostileConnections
from tests.helpers.signing import twilio_signature
from webhook.workers import default_workers

TOKEN = "b" * 32
FORM = {
    "AccountSid": "AC" + "0" * 32,
    "CallSid": "CA" + "1" * 32,
    "CallStatus": "in-progress",
    "From": "+15005550006",
    "To": "+15551234567",
    "Direction": "outbound-api",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start(command: list[str], port: int) -> subprocess.Popen:
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_listening(port)
    return process


def shot(port: int) -> Shot:
    url = f"http://127.0.0.1:{port}/voice/outbound?" + urlencode(
        {"room": "DailyStandup", "identity": "alice"}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(TOKEN, url, FORM),
    }
    return Shot(url, urlencode(FORM).encode(), headers)


ROUNDS = 3
HOSTILE_P99_MS = 100.0  # goal for the latency tail while hostile connections are held


def _median(results: list[LoadResult], by: str) -> LoadResult:
    """The round with the median `by` (rps or p99_ms), with every round's errors counted."""
    middle = sorted(results, key=lambda r: getattr(r, by))[len(results) // 2]
    return replace(middle, errors=sum(r.errors for r in results))


def _hostile_rounds(port: int, seconds: float, rounds: int) -> tuple[list, list, int]:
    """16-client and 4-client rounds against port while hostile connections are held open.

    Returns both lists of results and how many hostile connections were still open at the end
    (the server held them; it did not cope by cutting them).
    """
    at16: list[LoadResult] = []
    at4: list[LoadResult] = []
    with HostileConnections("127.0.0.1", port) as hostile:
        dribblers = hostile.headers + hostile.bodies
        deadline = time.monotonic() + 20
        while hostile.dribbled() < 2 * dribblers and time.monotonic() < deadline:
            time.sleep(0.1)  # every connection open and dribbling before the clock starts
        for _ in range(rounds):
            at16.append(run_load(shot(port), 16, seconds))
            at4.append(run_load(shot(port), 4, seconds))
        held = hostile.still_open()
    return at16, at4, held


def run(seconds: float = 3.0) -> list[Figure]:
    """Requests per second at 16 clients and p50/p99 at 4, ours beside the quickstart's.

    Ours is `switchboard webhook` as it starts by default: a worker process per core.

    Both servers run throughout and take turns, ROUNDS times, so a change in the machine's load
    lands on both sides; each figure is the median round. Then the same loads go to ours while
    hostile connections are held open (the quickstart stalls under them), and once more to
    `--workers 1`, which serves as the console's own webhook does: one process, one server.
    """
    ours_port, base_port, single_port = free_port(), free_port(), free_port()
    workers = default_workers()  # what `switchboard webhook` starts on this machine
    ours_cmd = [sys.executable, "-m", "console", "webhook", "--port", str(ours_port)]
    ours_cmd += ["--workers", str(workers)]
    base_cmd = [sys.executable, str(Path(__file__).with_name("quickstart_app.py")), str(base_port)]
    processes = [start(ours_cmd, ours_port), start(base_cmd, base_port)]
    rounds: dict[str, list[LoadResult]] = {"ours": [], "base": [], "ours_lat": [], "base_lat": []}
    try:
        for port in (ours_port, base_port):
            run_load(shot(port), 4, 1.0)  # warm up
        for _ in range(ROUNDS):
            for name, port in (("ours", ours_port), ("base", base_port)):
                rounds[name].append(run_load(shot(port), 16, seconds))
                rounds[f"{name}_lat"].append(run_load(shot(port), 4, seconds))
        hostile16, hostile4, held = _hostile_rounds(ours_port, seconds, ROUNDS)
        single_cmd = [sys.executable, "-m", "console", "webhook", "--port", str(single_port)]
        processes.append(start([*single_cmd, "--workers", "1"], single_port))
        run_load(shot(single_port), 4, 1.0)  # warm up
        single16, single4, single_held = _hostile_rounds(single_port, seconds, 1)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
    ours, base = _median(rounds["ours"], "rps"), _median(rounds["base"], "rps")
    ours_lat = _median(rounds["ours_lat"], "p99_ms")
    base_lat = _median(rounds["base_lat"], "p99_ms")
    errors = ours.errors + ours_lat.errors
    figures = [
        Figure(
            "webhook rps, 16 clients (signed)",
            ours.rps,
            "req/s",
            base.rps,
            ">= 1.5x quickstart",
            ours.rps >= 1.5 * base.rps and errors == 0,
            f"{workers} worker processes; {errors} errors; "
            f"quickstart {base.errors + base_lat.errors} errors",
        ),
        Figure(
            "webhook p50 latency, 4 clients",
            ours_lat.p50_ms,
            "ms",
            base_lat.p50_ms,
            "(reported)",
            True,
        ),
        Figure(
            "webhook p99 latency, 4 clients",
            ours_lat.p99_ms,
            "ms",
            base_lat.p99_ms,
            "<= 10 ms",
            ours_lat.p99_ms <= 10.0,
        ),
    ]
    hostile_rps = _median(hostile16, "rps")
    hostile_errors = sum(r.errors for r in hostile16 + hostile4)
    note = f"{held} of 300 hostile connections held to the end; {hostile_errors} errors"
    figures += [
        Figure(
            "webhook rps, 16 clients, 300 hostile conns",
            hostile_rps.rps,
            "req/s",
            base.rps,
            ">= 1.5x quickstart",
            hostile_rps.rps >= 1.5 * base.rps and hostile_errors == 0,
            note,
        ),
        _tail("webhook p99, 16 clients, 300 hostile conns", hostile16, ours_lat.p99_ms),
        _tail("webhook p99, 4 clients, 300 hostile conns", hostile4, ours_lat.p99_ms),
    ]
    single_note = f"--workers 1 (the console's model); {single_held} of 300 held to the end"
    figures += [
        Figure(
            "webhook rps, 16 clients, hostile, 1 process",
            single16[0].rps,
            "req/s",
            base.rps,
            "(reported)",
            single16[0].errors == 0,
            single_note,
        ),
        _tail("webhook p99, 16 clients, hostile, 1 process", single16, ours_lat.p99_ms),
        _tail("webhook p99, 4 clients, hostile, 1 process", single4, ours_lat.p99_ms),
    ]
    return figures


def _tail(name: str, results: list[LoadResult], calm_p99_ms: float) -> Figure:
    """The median round's p99 under hostile connections, beside ours without them."""
    median = _median(results, "p99_ms")
    errors = sum(r.errors for r in results)
    return Figure(
        name,
        median.p99_ms,
        "ms",
        calm_p99_ms,
        f"<= {HOSTILE_P99_MS:.0f} ms",
        median.p99_ms <= HOSTILE_P99_MS and errors == 0,
        f"baseline: ours at 4 clients without them; {errors} errors",
    )
