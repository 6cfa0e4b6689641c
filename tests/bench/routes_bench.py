"""routes.toml: loading 100,000 routes beside plain tomllib, and calls answered during a reload."""

from __future__ import annotations

import statistics
import tempfile
import time
import tomllib
from pathlib import Path

import requests

from tests.bench.results import Figure
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook.routes import Route, RoutingRules
from webhook.routes_file import RoutesFile, save_routes

ROUTES = 100_000
RUNS = 3  # each figure is the median run
TOKEN = "c" * 32
CALLED = "+15005550006"
FORM = {"CallSid": "CA" + "4" * 32, "From": "+14155550100", "To": CALLED}


def many_routes(count: int, room: str = "DailyStandup") -> RoutingRules:
    """count routes: the called number to room, then numbers that put callers on hold."""
    held = (Route(f"+1555{i:07d}", hold=True) for i in range(count - 1))
    return RoutingRules((Route(CALLED, room=room), *held))


def _load_seconds(path: Path) -> float:
    started = time.perf_counter()
    RoutesFile(path).check()
    return time.perf_counter() - started


def _tomllib_seconds(path: Path) -> float:
    started = time.perf_counter()
    tomllib.loads(path.read_text(encoding="utf-8"))
    return time.perf_counter() - started


def _median(measure, path: Path) -> float:
    return statistics.median(measure(path) for _ in range(RUNS))


def _load_figures(folder: Path) -> list[Figure]:
    big, small = folder / "big.toml", folder / "small.toml"
    save_routes(big, many_routes(ROUTES))
    save_routes(small, many_routes(ROUTES // 5))
    ours, plain = _median(_load_seconds, big), _median(_tomllib_seconds, big)
    fifth = _median(_load_seconds, small)
    size = big.stat().st_size / 1_000_000
    return [
        Figure(
            f"routes load, {ROUTES:,} routes ({size:.1f} MB)",
            ours,
            "s",
            plain,
            "< 2 s, <= 1.6x tomllib",
            ours < 2.0 and ours <= 1.6 * plain,
            "baseline: tomllib.loads of the same file",
        ),
        Figure(
            f"routes load, {ROUTES:,} vs 5 x {ROUTES // 5:,} routes",
            ours,
            "s",
            5 * fifth,
            "<= 1.3x (linear)",
            ours <= 1.3 * 5 * fifth,
            "a quadratic check would be about 5x",
        ),
    ]


def _post(session: requests.Session, url: str) -> tuple[float, str]:
    """Seconds for one signed incoming call, and the room it was sent to."""
    target = f"{url}/voice/incoming"
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, target, FORM)}
    started = time.perf_counter()
    answer = session.post(target, data=FORM, headers=headers, timeout=30)
    took = time.perf_counter() - started
    answer.raise_for_status()
    return took, room_of(parse_twiml(answer.content)).text


def _reload_figure(folder: Path) -> Figure:
    path = folder / "routes.toml"
    save_routes(path, many_routes(10))
    command = RunningCommand(
        "webhook", "--port", "0", "--workers", "1", "--routes", str(path),
        env={"TWILIO_AUTH_TOKEN": TOKEN},
    )  # fmt: skip
    try:
        url = command.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        command.wait_for_line(r"Press Ctrl-C to stop")
        session = requests.Session()
        idle: list[float] = []
        for _ in range(200):
            idle.append(_post(session, url)[0])
        save_routes(path, many_routes(ROUTES, room="Support"))
        during: list[float] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            took, room = _post(session, url)
            if room == "Support":
                break
            during.append(took)
    finally:
        command.terminate()
    worst = max(during) * 1000 if during else float("inf")
    return Figure(
        f"incoming call while {ROUTES:,} routes load, slowest",
        worst,
        "ms",
        max(idle) * 1000,
        "<= 250 ms (Twilio waits 15 s)",
        bool(during) and worst <= 250,
        f"{len(during)} calls answered from the old rules during the reload; "
        f"median {statistics.median(during) * 1000 if during else 0:.1f} ms",
    )


def run() -> list[Figure]:
    """Load time against tomllib and linearity; a call's worst latency during a reload."""
    with tempfile.TemporaryDirectory() as folder:
        figures = _load_figures(Path(folder))
        figures.append(_reload_figure(Path(folder)))
    return figures
