"""Starts a console session: shows the window at once, starts the servers behind it, cleans up."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from console.controller import ConsoleController
from console.core.preferences import Preferences
from console.event_bridge import EventBridge
from console.gui_collector import GuiThreadCollector
from console.tasks import TaskRunner
from console.ui.resources import app_icon
from console.ui.window.main_window import MainWindow

if TYPE_CHECKING:
    from console.core.credentials import Credentials
    from console.core.runtime import Runtime
    from console.core.secrets_store import SecretStore
    from console.core.self_check import TunnelWatcher

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 1500


def check_credentials(credentials: Credentials) -> str:
    """The Settings dialog's Test: the account's friendly name, or a TwilioError."""
    from console.core.runtime import check_credentials as check

    return check(credentials)


@dataclass
class Started:
    """What the background start produced."""

    runtime: Runtime
    secrets: SecretStore
    watcher: TunnelWatcher | None = None  # live mode: checks the webhook through the tunnel


@dataclass
class ConsoleSession:
    """Everything one window runs on, and the order it stops in."""

    runner: TaskRunner
    bridge: EventBridge
    controller: ConsoleController
    window: MainWindow
    runtime: Runtime | None = None
    secrets: SecretStore | None = None
    start_error: str = ""
    collector: GuiThreadCollector | None = None
    _start: Callable[[], Started] | None = field(default=None, repr=False)

    def start_in_background(self) -> None:
        """Start the servers on the worker pool; the window hears when they are up."""
        if self._start is not None:
            start, self._start = self._start, None
            self.runner.submit(start, self.on_started, self.on_start_failed)

    def on_started(self, started: Started) -> None:
        """The servers are up: hand them to the window."""
        self.runtime, self.secrets = started.runtime, started.secrets
        self.window.start(started.runtime, started.secrets, started.watcher)
        gc.freeze()  # start-up objects never die: keep them out of the collector's pauses
        log.info(
            "Switchboard ready: %s mode, webhook %s",
            started.runtime.mode,
            started.runtime.public_url,
        )

    def on_start_failed(self, error: object) -> None:
        """The servers could not start: say why; the operator can only quit."""
        self.start_error = f"Switchboard could not start: {error}"
        log.error("%s", self.start_error)
        self.window.show_start_failure(self.start_error)

    def shutdown(self) -> bool:
        """Stop the webhook, then the sandbox, then wait for background work; True if all done."""
        started = self.runner.wait(SHUTDOWN_WAIT_MS)  # a start still under way finishes first
        if self.runtime is not None:
            # Stopping closes the gateway: a read or reconcile still running gives up at once.
            self.runtime.stop()
            started = True  # what is left is work the stop ends, waited for below
        finished = started and self.runner.wait(SHUTDOWN_WAIT_MS)
        if self.collector is not None and finished:  # no thread of ours allocates any more
            self.collector.stop()
        return finished


def start_runtime(
    bridge: EventBridge,
    preferences: Preferences,
    env: Mapping[str, str],
    force_sandbox: bool = False,
    ring_delay: float = 1.0,
    secrets: SecretStore | None = None,
) -> Started:
    """Team mode when a team is set, else live mode when credentials exist, else the sandbox.

    Forcing sandbox mode skips both the team and the credentials.
    """
    import phonenumbers  # noqa: F401 - loaded here, so the dial pad never waits for it

    from console.core.credentials import resolve_credentials
    from console.core.runtime import start_live, start_sandbox
    from console.core.secrets_store import SecretStore

    secrets = secrets or SecretStore()
    if not force_sandbox:
        from console.core.team_runtime import start_team
        from console.core.team_settings import resolve_team

        login = resolve_team(preferences, secrets, env)  # ValueError: a half-set team, in words
        if login is not None:
            team = start_team(login, bridge.deliver, bridge.deliver_team, bridge.deliver_state)
            return Started(team, secrets)
    credentials = None if force_sandbox else resolve_credentials(preferences, secrets, env)
    if credentials is None:
        runtime = start_sandbox(bridge.deliver, preferences.webhook_port, ring_delay)
        _open_history(runtime, bridge)
        return Started(runtime, secrets)
    from console.core.self_check import TunnelWatcher
    from console.core.tunnel import make_tunnel

    tunnel = make_tunnel(preferences, secrets, env)
    runtime = start_live(
        credentials, bridge.deliver, preferences.webhook_port, tunnel=tunnel, env=env
    )
    watcher = TunnelWatcher(
        runtime.public_url,
        int(runtime.webhook.port or 0),
        runtime.tunnel,
        credentials.auth_token,
        on_public_url=runtime.set_public_url,
    )
    _open_history(runtime, bridge)
    return Started(runtime, secrets, watcher)


def _open_history(runtime: Runtime, bridge: EventBridge) -> None:
    """Record this session's calls; a history that will not open is reported, not fatal."""
    from console.core.calls.history import CallHistory, HistoryError

    try:
        history = CallHistory(progress=bridge.deliver_history_progress)  # an upgrade: shown
    except HistoryError as error:
        runtime.notes.append(f"Call history is off this session: {error}")
        return
    runtime.keep_history(history)
    bridge.history = history


def open_console(
    preferences: Preferences,
    secrets: SecretStore | None,
    env: Mapping[str, str],
    force_sandbox: bool = False,
    ring_delay: float = 1.0,
    wait: bool = True,
) -> ConsoleSession:
    """Build the window and start the servers (wait=False: later, by start_in_background)."""
    bridge = EventBridge()
    runner = TaskRunner()
    controller = ConsoleController(runner)
    window = MainWindow(controller, preferences, env, check_credentials)
    bridge.call_status_received.connect(controller.ledger.on_bridge_call_status)
    bridge.room_event_received.connect(controller.ledger.on_bridge_room_event)
    bridge.room_event_received.connect(controller.room_desk.on_bridge_room_event)
    bridge.request_logged.connect(window.on_bridge_request_logged)
    bridge.call_status_received.connect(window.dialogs.on_bridge_call_status)
    bridge.call_status_received.connect(window.routing.on_bridge_call_status)
    bridge.caller_waiting.connect(window.routing.on_bridge_caller_waiting)
    bridge.routes_loaded.connect(window.on_bridge_routes_loaded)
    bridge.team_state_changed.connect(window.team_view.on_bridge_team_state_changed)
    bridge.team_event_received.connect(window.team_view.on_bridge_team_event)
    bridge.team_event_received.connect(window.team_desk.on_bridge_team_event)
    bridge.team_event_received.connect(window.dialogs.on_bridge_team_event)
    bridge.team_state_changed.connect(window.team_desk.on_bridge_team_state_changed)
    bridge.history_progressed.connect(window.status.on_bridge_history_progressed)
    bridge.setParent(window)
    runner.setParent(window)
    collector = GuiThreadCollector(window)
    collector.start()
    session = ConsoleSession(runner, bridge, controller, window, collector=collector)

    def start() -> Started:
        return start_runtime(bridge, preferences, env, force_sandbox, ring_delay, secrets)

    if wait:
        session.on_started(start())
    else:
        session._start = start
    return session


def stop_on_signals(app: QApplication) -> QTimer:
    """Close the window cleanly on Ctrl-C or SIGTERM (Qt alone would leave Python no chance)."""

    def on_signal(signum: int, frame: object) -> None:
        app.closeAllWindows()
        app.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    wake = QTimer(app)  # lets the interpreter run its signal handlers while Qt waits
    wake.start(200)
    return wake


def run_gui(args: argparse.Namespace) -> int:
    """Open the console window and run the Qt event loop until it closes."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Switchboard")
    app.setOrganizationName("Switchboard")
    app.setDesktopFileName("switchboard")  # ties the taskbar entry to switchboard.desktop
    app.setWindowIcon(app_icon())
    session = open_console(
        Preferences.default(), None, os.environ, force_sandbox=bool(args.sandbox), wait=False
    )
    session.window.show()

    def shown() -> None:
        log.info("Switchboard window shown")
        # Only now: the servers' imports would hold the interpreter lock while the window paints.
        session.start_in_background()

    QTimer.singleShot(0, shown)
    stop_on_signals(app)
    status = app.exec()
    if not session.shutdown():
        log.warning("background requests still running at exit; not waiting for them")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)  # a hung request must not keep the process alive
    return status
