"""The console in team mode: click-to-join, and a waiting caller's arrival in a second console.

The team is the one `switchboard team-demo` starts (a sandbox with no ring delay, two server
processes on one PostgreSQL); the consoles are real console sessions in team mode, in this
process's offscreen QApplication, signed in as two operators.
"""

from __future__ import annotations

import statistics
import threading
import time
from contextlib import ExitStack

import requests

from console.app import ConsoleSession
from console.commands.team_demo import TeamDemo
from tests.bench.console_bench import _app, _pump_until, console_session, join_times
from tests.bench.results import Figure

DIALS = 10
CALLERS = 40
CALLER_SPACING = 0.25  # seconds between incoming callers: latency, not throughput


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _team_env(demo: TeamDemo, operator: str) -> dict[str, str]:
    return {"SWITCHBOARD_SERVER": demo.server_url, "SWITCHBOARD_TOKEN": demo.tokens[operator]}


def _ring(demo: TeamDemo, caller: str, number: str) -> str:
    """A caller rings a team number through the sandbox (which rings the team server)."""
    answer = requests.post(
        f"{demo.sandbox_url}/sandbox/IncomingCalls",
        auth=(demo.account, demo.auth_token),
        data={"From": caller, "To": number},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["sid"]


def arrival_times(demo: TeamDemo, watched: ConsoleSession, other: ConsoleSession) -> list[float]:
    """Seconds from an incoming call to its row in the watched console's waiting list."""
    shown: dict[str, float] = {}
    model = watched.window.routing.waiting_model

    def on_change(*_: object) -> None:  # a caller is added with a reset (kept in order)
        now = time.perf_counter()
        for caller in model.records():
            shown.setdefault(caller.from_, now)

    model.modelReset.connect(on_change)
    model.rowsInserted.connect(on_change)
    for session in (watched, other):
        _pump_until(lambda s=session: s.runtime.team_state[0] == "connected", 30)
    sent: dict[str, float] = {}
    sids: list[str] = []
    number = demo.numbers[0]

    def ring_all() -> None:
        for n in range(CALLERS):
            caller = f"+1555200{n:04d}"
            sent[caller] = time.perf_counter()
            sids.append(_ring(demo, caller, number))
            time.sleep(CALLER_SPACING)

    ringer = threading.Thread(target=ring_all, daemon=True)
    ringer.start()
    _pump_until(lambda: len(shown) >= CALLERS, CALLERS * CALLER_SPACING + 30)
    ringer.join(10)
    model.modelReset.disconnect(on_change)
    model.rowsInserted.disconnect(on_change)
    gateway = watched.runtime.gateway
    for sid in sids:  # the callers hang up: the next figure starts from an empty line
        gateway.hang_up(sid)
    return [shown[caller] - at for caller, at in sent.items()]


def run(database_url: str) -> list[Figure]:
    """Team click-to-join beside the standalone one, and a waiting caller in a second console."""
    _app()
    with console_session({}, ring_delay=0.0) as standalone:
        alone = statistics.median(join_times(standalone, DIALS)) * 1000
    demo = TeamDemo(threading.Event(), lambda line: None, database_url, ring_delay=0.0)
    try:
        demo.start()
        with ExitStack() as sessions:  # each on its own scratch dirs, closed newest first
            ada = sessions.enter_context(console_session(_team_env(demo, "ada")))
            team = statistics.median(join_times(ada, DIALS)) * 1000
            grace = sessions.enter_context(console_session(_team_env(demo, "grace")))
            arrivals = [seconds * 1000 for seconds in arrival_times(demo, grace, ada)]
    finally:
        demo.close()
    p95 = _percentile(arrivals, 0.95)
    return [
        Figure(
            f"team: click to join, median of {DIALS}", team, "ms", alone, "<= 400 ms",
            team <= 400, "baseline: the standalone console's click to join, same run",
        ),
        Figure(
            f"team: waiting caller to a second console's row, p95 of {CALLERS}", p95, "ms",
            None, "<= 200 ms", p95 <= 200,
            f"median {statistics.median(arrivals):.1f} ms, max {max(arrivals):.1f} ms",
        ),
    ]  # fmt: skip
