"""A one-hour shift in a few minutes: 2,000 calls through the window with a fast sandbox clock.

Dials from the dial pad (some busy, unanswered or failing), callers who wait and are put in
rooms, and hang-ups, against a sandbox in its own process (so only the window's memory is
measured). Reports the window's peak RSS growth from the end of the first ten simulated minutes
to the end of the hour, and the longest GUI-thread stall over the whole shift.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import requests
from PySide6.QtCore import QSettings, QTimer

from console.app import ConsoleSession, open_console
from console.core.preferences import Preferences
from console.core.secrets_store import SecretStore
from tests.bench.console_bench import TickGaps, _app, _pump_until, scratch_user
from tests.bench.results import Figure
from tests.bench.sandbox_process import RemoteSandbox, seeded_sandbox
from tests.helpers.memory_keyring import MemoryKeyring
from webhook.routes_file import default_routes_path

CALLS = 2000
SHIFT_SECONDS = 3600  # simulated
CLOCK_SPEED = 15.0  # simulated seconds per real second: the hour takes four minutes
RING_SECONDS = 5.0  # simulated ring before an answer
TALK_SECONDS = 60.0  # simulated time an answered call stays up before the operator hangs up
WAITING_SHARE = 4  # every 4th call is an incoming caller who waits for the operator
FIRST_STRETCH = 600  # simulated seconds: the "first ten minutes"
ROOMS = [f"Shift-{n}" for n in range(8)]
LINE, HOLD_LINE = "+15005550006", "+15005550007"
HOLD_ROUTES = f'[[route]]\nnumber = "{HOLD_LINE}"\nhold = true\n'
TROUBLE = ("+15005550002", "+15005550003", "+15005550004")  # busy, no answer, fails


class IdleProbe:
    """An idle Qt event loop in a process of its own, ticking beside the shift: its longest gap
    is what the machine alone does to a GUI thread meanwhile (the stall figure's baseline)."""

    def __enter__(self) -> IdleProbe:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.shift_bench", "--idle-probe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ticking":
            raise RuntimeError("the idle probe did not start")
        self.longest = self.p99 = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._process.communicate("stop\n", timeout=30)
        longest, p99 = out.split()
        self.longest, self.p99 = float(longest), float(p99)


def idle_probe() -> None:
    """The probe's side: tick every 10 ms until stdin says stop, then print longest and p99."""
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QSocketNotifier

    app = QCoreApplication([])
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: gaps.append(clock.restart()))
    timer.start()
    stop = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    stop.activated.connect(app.quit)
    print("ticking", flush=True)
    app.exec()
    print(max(gaps, default=0), _p99(gaps), flush=True)


def _p99(gaps: list[int]) -> float:
    return statistics.quantiles(gaps, n=100)[98] if len(gaps) > 100 else float(max(gaps, default=0))


def _load() -> str:
    """The machine's 1-minute load average, as uptime shows it."""
    return f"{os.getloadavg()[0]:.1f}"


def peak_rss_kib() -> int:
    """The process's peak resident set so far (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


class ShiftTicks(TickGaps):
    """TickGaps that keeps every gap, for the 99th percentile too, and the GUI thread's own CPU
    time in each: a long gap with little CPU in it was spent waiting (for the machine, the
    interpreter lock or the disk), one with much CPU was the window's own work."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[int] = []
        self.busiest = 0.0  # the most CPU the GUI thread used between two ticks, in ms
        self.cpu_in_longest = 0.0  # the CPU it used in the longest gap, in ms
        self.cpu = 0.0  # its CPU time over the shift, in seconds
        self._cpu_at = self._shift_cpu = 0.0

    def __enter__(self) -> ShiftTicks:
        self._cpu_at = self._shift_cpu = time.thread_time()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.cpu = time.thread_time() - self._shift_cpu

    def _tick(self) -> None:
        gap = self._clock.restart()
        now = time.thread_time()
        used, self._cpu_at = (now - self._cpu_at) * 1000, now
        self.gaps.append(gap)
        self.busiest = max(self.busiest, used)
        if gap > self.longest:
            self.longest, self.cpu_in_longest = gap, used


class Caller(threading.Thread):
    """Rings the sandbox's held line from a thread, as callers do, never on the GUI thread."""

    def __init__(self, box: RemoteSandbox) -> None:
        super().__init__(name="shift-callers", daemon=True)
        self._box = box
        self._queue: deque[str] = deque()
        self._wake = threading.Event()
        self.failures = 0
        self.stopped = False

    def ring(self, number: str) -> None:
        """Queue one incoming call from number."""
        self._queue.append(number)
        self._wake.set()

    def run(self) -> None:
        with requests.Session() as http:
            while not self.stopped:
                self._wake.wait(0.2)
                self._wake.clear()
                while self._queue:
                    caller = self._queue.popleft()
                    answer = http.post(
                        f"{self._box.url}/sandbox/IncomingCalls",
                        auth=(self._box.account_sid, self._box.auth_token),
                        data={"From": caller, "To": HOLD_LINE},
                        timeout=10,
                    )
                    self.failures += answer.status_code >= 400


class Shift:
    """Drives the window through the shift from GUI-thread timers."""

    def __init__(
        self, session: ConsoleSession, caller: Caller, calls: int, shift_seconds: float
    ) -> None:
        self.session, self.caller = session, caller
        self.calls = calls
        self.window, self.controller = session.window, session.controller
        self.started = 0
        self.rss_first_stretch = 0
        self.hung_up: set[str] = set()
        self.put: set[str] = set()
        self._numbers = itertools.count(1)
        self._began = time.monotonic()
        self.tick = QTimer()
        self.tick.setInterval(int(shift_seconds / CLOCK_SPEED * 1000 / calls))
        self.first_stretch = shift_seconds * FIRST_STRETCH / SHIFT_SECONDS
        self.tick.timeout.connect(self.next_call)
        self.sweep = QTimer()
        self.sweep.setInterval(200)
        self.sweep.timeout.connect(self.tend)

    def simulated(self) -> float:
        """Simulated seconds since the shift began."""
        return (time.monotonic() - self._began) * CLOCK_SPEED

    def start(self) -> None:
        self._began = time.monotonic()
        self.tick.start()
        self.sweep.start()

    def stop(self) -> None:
        self.tick.stop()
        self.sweep.stop()

    def next_call(self) -> None:
        """One more call: an incoming caller who waits, or a dial from the pad."""
        if self.started >= self.calls:
            return
        n = next(self._numbers)
        if n % WAITING_SHARE == 0:
            self.caller.ring(f"+1415555{n % 10000:04d}")
            self.started += 1
        else:
            pad = self.window.dial_pad
            if self.controller.dialing:
                return  # the pad is busy with the last dial; this tick is lost, as a person's
            number = TROUBLE[n % 3] if n % 10 == 0 else f"+1555{n % 10_000_000:07d}"
            pad.fill(number, ROOMS[n % len(ROOMS)], f"agent-{n}")
            pad.dial()
            self.started += 1
        if not self.rss_first_stretch and self.simulated() >= self.first_stretch:
            self.rss_first_stretch = peak_rss_kib()

    def tend(self) -> None:
        """The operator's other work: put waiting callers in rooms, hang up finished talks."""
        now = datetime.now(UTC)
        talk = TALK_SECONDS / CLOCK_SPEED
        for call in self.controller.calls_model.records():
            answered = call.answered_at
            if (
                call.status == "in-progress"
                and answered is not None
                and (now - answered).total_seconds() > talk
                and call.sid not in self.hung_up
            ):
                self.hung_up.add(call.sid)
                self.window.calls.select_call(call.sid)
                self.window.calls.on_hang_up_clicked()
        routing = self.window.routing
        for waiting in routing.waiting_model.records():
            if waiting.call_sid not in self.put:
                self.put.add(waiting.call_sid)
                room = ROOMS[len(self.put) % len(ROOMS)]
                routing.put_in_room(waiting.call_sid, room, f"caller-{len(self.put)}")

    def settled(self) -> bool:
        """Every call started, and none still live or waiting."""
        calls = self.controller.calls_model.records()
        live = [c for c in calls if not c.finished]
        return (
            self.started >= self.calls
            and not live
            and self.window.routing.waiting_model.rowCount() == 0
            and self.caller.failures == 0
        )


def _session(box: RemoteSandbox, scratch: str) -> ConsoleSession:
    prefs = Preferences(QSettings(f"{scratch}/bench.ini", QSettings.Format.IniFormat))
    prefs.webhook_port = 0
    prefs.tunnel_provider = "none"
    env = {
        "SWITCHBOARD_TWILIO_URL": box.url,
        "TWILIO_ACCOUNT_SID": box.account_sid,
        "TWILIO_AUTH_TOKEN": box.auth_token,
    }
    session = open_console(prefs, SecretStore(MemoryKeyring()), env, wait=False)
    session.window.show()
    session.start_in_background()
    _pump_until(lambda: session.runtime is not None or bool(session.start_error), 30)
    _pump_until(lambda: session.window.dial_pad.isEnabled(), 30)  # the first health check
    return session


def _route_lines(session: ConsoleSession) -> None:
    runtime = session.runtime
    assert runtime is not None
    for line in runtime.gateway.list_numbers():
        if line.number == HOLD_LINE:
            runtime.gateway.set_voice_url(
                line.sid, f"{runtime.public_url}/voice/incoming", runtime.call_status_url
            )


def run(calls: int = CALLS, shift_seconds: float = SHIFT_SECONDS) -> list[Figure]:
    """The shift's two figures: peak RSS growth and the longest GUI stall.

    Fewer calls in a shorter shift (same pace) make a quick trial run.
    """
    app = _app()
    with scratch_user() as root, seeded_sandbox(ring_delay=RING_SECONDS) as box:
        routes = default_routes_path()  # under the scratch config directory
        routes.parent.mkdir(parents=True, exist_ok=True)
        routes.write_text(HOLD_ROUTES)
        requests.post(
            f"{box.url}/sandbox/Settings",
            auth=(box.account_sid, box.auth_token),
            data={"ClockSpeed": CLOCK_SPEED, "RingDelay": RING_SECONDS},
            timeout=10,
        ).raise_for_status()
        session = _session(box, str(root))
        _route_lines(session)
        caller = Caller(box)
        caller.start()
        shift = Shift(session, caller, calls, shift_seconds)
        real_hour = shift_seconds / CLOCK_SPEED
        with IdleProbe() as idle, ShiftTicks() as busy:
            shift.start()
            _pump_until(lambda: shift.started >= calls, real_hour * 3)
            _pump_until(shift.settled, 120)
            shift.stop()
        rss_end = peak_rss_kib()
        caller.stopped = True
        finished = len([c for c in session.controller.calls_model.records() if c.finished])
        session.window.close()
        session.shutdown()
        app.processEvents()
    first = shift.rss_first_stretch or rss_end
    growth = (rss_end - first) / first * 100
    note = (
        f"{shift.started} calls in {real_hour:.0f} s real at {CLOCK_SPEED:g}x; peak RSS "
        f"{first / 1024:.0f} MiB after 10 simulated minutes, {rss_end / 1024:.0f} MiB at the "
        f"end; {finished} finished calls left in the Calls table"
    )
    return [
        Figure(
            "shift: peak RSS growth, first 10 min to end of a 2,000-call hour",
            growth,
            "%",
            None,
            "< 10%",
            growth < 10,
            note,
        ),
        Figure(
            "shift: longest GUI stall over 2,000 calls",
            busy.longest,
            "ms",
            idle.longest,
            "<= 50 ms",
            busy.longest <= 50,
            f"99th percentile of 10 ms tick gaps {_p99(busy.gaps):.0f} ms; baseline: an idle "
            f"event loop in its own process, beside the shift (longest {idle.longest:.0f} ms, "
            f"99th percentile {idle.p99:.0f} ms); GUI thread CPU: {busy.cpu_in_longest:.0f} ms "
            f"in the longest gap, {busy.busiest:.0f} ms at most between two ticks, "
            f"{busy.cpu:.0f} s over the shift; load average {_load()} at the end",
        ),
    ]


if __name__ == "__main__" and "--idle-probe" in sys.argv:
    idle_probe()
