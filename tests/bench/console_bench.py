"""The console under load: GUI-thread stalls with slow Twilio, and click-to-join latency."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from console.app import ConsoleSession, open_console
from console.core.calls.dial_input import DialRequest
from console.core.calls.records import CALL_EVENTS
from console.core.preferences import Preferences
from console.core.secrets_store import SecretStore
from tests.bench.results import Figure
from tests.bench.sandbox_process import seeded_sandbox
from tests.helpers.memory_keyring import MemoryKeyring

FROM = "+15005550006"

USER_DIRS = {"XDG_CONFIG_HOME": "config", "XDG_DATA_HOME": "data"}  # what platformdirs reads
CPS_SPACING = 1.05  # seconds between dials: just over Twilio's default of 1 call per second


def _app() -> QApplication:
    return QApplication.instance() or QApplication([])


@contextmanager
def scratch_user() -> Iterator[Path]:
    """XDG config and data dirs (call history, routes.toml) in a temporary directory while the
    block runs, so the operator's own files are never touched; nested blocks unwind in order."""
    saved = {key: os.environ.get(key) for key in USER_DIRS}
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as root:
        for key, folder in USER_DIRS.items():
            os.environ[key] = f"{root}/{folder}"
        try:
            yield Path(root)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@contextmanager
def console_session(env: dict[str, str], ring_delay: float = 0.0) -> Iterator[ConsoleSession]:
    """A started console session on scratch user dirs (env {}: the sandbox), closed at the end."""
    with scratch_user() as scratch:
        prefs = Preferences(QSettings(f"{scratch}/bench.ini", QSettings.Format.IniFormat))
        prefs.webhook_port = 0
        prefs.tunnel_provider = "none"
        store = SecretStore(MemoryKeyring())
        session = open_console(prefs, store, env, not env, ring_delay, wait=False)
        try:
            session.window.show()
            session.start_in_background()  # as `switchboard` does: off the GUI thread
            _pump_until(lambda: session.runtime is not None or bool(session.start_error), 30)
            yield session
        finally:
            session.window.close()
            session.shutdown()


def _pump_until(done: Callable[[], bool], timeout: float) -> None:
    app, deadline = _app(), time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not finish in time")
        app.processEvents()
        time.sleep(0.001)


class TickGaps:
    """The longest wait between 10 ms timer ticks on the GUI thread."""

    def __init__(self) -> None:
        self.longest = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.longest = max(self.longest, self._clock.restart())

    def __enter__(self) -> TickGaps:
        self._clock.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()


def gui_stall() -> Figure:
    """Refresh 50 rooms and dial 5 calls against a sandbox adding 1.5 s to every request."""
    _app()
    with TickGaps() as idle:
        started = time.monotonic()
        _pump_until(lambda: time.monotonic() - started > 3.0, 10)
    with seeded_sandbox(rooms=50, latency=1.5) as box:
        env = {
            "SWITCHBOARD_TWILIO_URL": box.url,
            "TWILIO_ACCOUNT_SID": box.account_sid,
            "TWILIO_AUTH_TOKEN": box.auth_token,
        }
        with console_session(env) as session, TickGaps() as busy:
            controller = session.controller
            controller.refresh()
            for n in range(5):
                _pump_until(lambda: not controller.dialing, 60)
                controller.dial(DialRequest(f"+1555123000{n}", FROM, "Room-000", f"caller-{n}"))
            _pump_until(lambda: controller.calls_model.rowCount() == 5, 60)
            _pump_until(lambda: controller.rooms_model.rowCount() >= 50, 60)
    return Figure(
        "GUI stall: 50 rooms + 5 dials, 1.5 s latency",
        busy.longest,
        "ms",
        idle.longest,
        "<= 50 ms",
        busy.longest <= 50,
        "baseline: the same event loop idle",
    )


def join_times(session: ConsoleSession, dials: int) -> list[float]:
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
        _space_out()
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


def click_to_join(dials: int = 10) -> Figure:
    """From the Dial click to the participant shown in the rooms panel, with no ring delay."""
    app = _app()
    with console_session({}, ring_delay=0.0) as session:
        ours = join_times(session, dials)
        base = []
        for n in range(dials):
            _space_out()
            base.append(_sdk_join(session, f"sdk-{n}"))
    app.processEvents()
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
    return Figure(
        "click to join, median of 10",
        ours_ms,
        "ms",
        base_ms,
        "<= 300 ms",
        ours_ms <= 300,
        "baseline: calls.create then polling participants with the SDK",
    )


_last_dial = [0.0]


def _space_out() -> None:
    """Dial at most once a second, the account's calls-per-second as Twilio's queue has it, so
    each figure is the time to join and not the time spent waiting in the queue."""
    _pump_until(lambda: time.perf_counter() - _last_dial[0] >= CPS_SPACING, 5)
    _last_dial[0] = time.perf_counter()


def _sdk_join(session: ConsoleSession, identity: str) -> float:
    runtime = session.runtime
    assert runtime is not None
    gateway = runtime.gateway
    room = gateway.find_room("Bench")
    assert room is not None
    began = time.perf_counter()
    gateway.place_call(
        "+15551234567",
        FROM,
        runtime.outbound_url("Bench", identity),
        runtime.call_status_url,
        CALL_EVENTS,
    )
    while not any(p.identity == identity for p in gateway.list_participants(room.sid)):
        _app().processEvents()
    return time.perf_counter() - began


def run() -> list[Figure]:
    """Both console figures."""
    return [gui_stall(), click_to_join()]
