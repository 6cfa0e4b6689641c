"""The console in team mode: click-to-join, and a waiting caller's arrival in a second console.

The team is the one `switchboard team-demo` starts (a sandbox with no ring delay, two server
processes on one PostgreSQL); the consoles are real console sessions in team mode, in this
process's offscreen QApplication, signed in as two operators.
"""

from __future__ import annotations

import statistics
import threading
import time

import requests

from console.app import ConsoleSession
from console.commands.team_demo import TeamDemo
from console.core.calls.dial_input import DialRequest
from tests.bench.console_bench import FROM, _app, _close, _pump_until, _session, _space_out
from tests.bench.results import Figure

DIALS = 10
CALLERS = 40
CALLER_SPACING = 0.25  # seconds between incoming callers: latency, not throughput


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _team_env(demo: TeamDemo, operator: str) -> dict[str, str]:
    return {"SWITCHBOARD_SERVER": demo.server_url, "SWITCHBOARD_TOKEN": demo.tokens[operator]}


def join_times(session: ConsoleSession, dials: int = DIALS) -> list[float]:
    """Seconds from ConsoleController.dial until the callee is listed in the room's panel."""
    controller, window = session.controller, session.window
    if session.start_error:
        raise RuntimeError(session.start_error)
    _pump_until(lambda: window.dial_pad.isEnabled(), 30)
    controller.create_room("Bench")
    _pump_until(lambda: window.rooms.select_room_named("Bench"), 30)
    times = []
    for n in range(dials):
        identity = f"join-{n}"
        _space_out()  # the account's calls per second, as in the standalone figure
        began = time.perf_counter()
        controller.dial(DialRequest("+15551234567", FROM, "Bench", identity))
        _pump_until(
            lambda i=identity: any(
                p.identity == i for p in controller.participants_model.records()
            ),
            15,
        )
        times.append(time.perf_counter() - began)
        _pump_until(lambda: not controller.dialing, 15)
    return times


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
    standalone, scratch = _session({}, ring_delay=0.0)
    try:
        alone = statistics.median(join_times(standalone)) * 1000
    finally:
        _close(standalone)
        scratch.cleanup()
    demo = TeamDemo(threading.Event(), lambda line: None, database_url, ring_delay=0.0)
    sessions = []
    try:
        demo.start()
        ada, ada_scratch = _session(_team_env(demo, "ada"))
        sessions.append((ada, ada_scratch))
        team = statistics.median(join_times(ada)) * 1000
        grace, grace_scratch = _session(_team_env(demo, "grace"))
        sessions.append((grace, grace_scratch))
        arrivals = [seconds * 1000 for seconds in arrival_times(demo, grace, ada)]
    finally:
        for session, scratch in sessions:
            _close(session)
            scratch.cleanup()
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
