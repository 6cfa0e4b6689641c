"""Starts a console session: picks the mode, starts the servers, shows the window, cleans up."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console.controller import ConsoleController
from console.credentials import resolve_credentials
from console.event_bridge import EventBridge
from console.main_window import MainWindow
from console.preferences import Preferences
from console.runtime import Runtime, check_credentials, start_live, start_sandbox
from console.secrets_store import SecretStore
from console.tasks import TaskRunner

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 1500


@dataclass
class ConsoleSession:
    """Everything one window runs on, and the order it stops in."""

    runtime: Runtime
    runner: TaskRunner
    bridge: EventBridge
    controller: ConsoleController
    window: MainWindow

    def shutdown(self) -> bool:
        """Stop the webhook, then the sandbox, then wait for background work; True if all done."""
        self.runtime.stop()
        return self.runner.wait(SHUTDOWN_WAIT_MS)


def start_runtime(
    bridge: EventBridge,
    preferences: Preferences,
    secrets: SecretStore,
    env: Mapping[str, str],
    force_sandbox: bool = False,
    ring_delay: float = 1.0,
) -> Runtime:
    """Live mode when credentials exist (and sandbox mode is not forced), else the sandbox."""
    credentials = None if force_sandbox else resolve_credentials(preferences, secrets, env)
    if credentials is None:
        return start_sandbox(bridge.deliver, preferences.webhook_port, ring_delay)
    return start_live(credentials, bridge.deliver, preferences.webhook_port)


def open_console(
    preferences: Preferences,
    secrets: SecretStore,
    env: Mapping[str, str],
    force_sandbox: bool = False,
    ring_delay: float = 1.0,
) -> ConsoleSession:
    """Start the servers and build the window (not yet shown)."""
    bridge = EventBridge()
    runner = TaskRunner()
    runtime = start_runtime(bridge, preferences, secrets, env, force_sandbox, ring_delay)
    controller = ConsoleController(runtime, runner)
    window = MainWindow(controller, preferences, secrets, env, check_credentials)
    bridge.call_status_received.connect(controller.on_bridge_call_status)
    bridge.room_event_received.connect(controller.on_bridge_room_event)
    bridge.request_logged.connect(window.on_bridge_request_logged)
    bridge.setParent(window)
    runner.setParent(window)
    return ConsoleSession(runtime, runner, bridge, controller, window)


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
    preferences = Preferences.default()
    try:
        session = open_console(
            preferences, SecretStore(), os.environ, force_sandbox=bool(args.sandbox)
        )
    except OSError as error:
        QMessageBox.critical(None, "Switchboard", f"Switchboard could not start: {error}")
        return 1
    session.window.show()
    session.window.start()
    stop_on_signals(app)
    log.info(
        "Switchboard ready: %s mode, webhook %s", session.runtime.mode, session.runtime.public_url
    )
    status = app.exec()
    if not session.shutdown():
        log.warning("background requests still running at exit; not waiting for them")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)  # a hung request must not keep the process alive
    return status
