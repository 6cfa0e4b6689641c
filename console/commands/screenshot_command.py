"""`switchboard screenshot FILE`: a demo session in the sandbox, saved as a picture."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

DEMO_CALLS = (
    ("+15551234567", "DailyStandup", "alice"),
    ("sip:bob@example.com", "DailyStandup", "bob"),
    ("+15005550002", "Support", "carol"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard screenshot`."""
    parser = sub.add_parser(
        "screenshot", help="dial a few demo calls in the sandbox and save the window as PNG"
    )
    parser.add_argument("file", type=Path, help="where to write the PNG")
    parser.add_argument("--size", default="1180x720", help="window size WxH (default 1180x720)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and save the picture; exit 0 when the window showed every demo call."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from console.app import open_console
    from console.core.calls.dial_input import DialRequest
    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore

    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        print("switchboard screenshot: --size must look like 1180x720", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    scratch = tempfile.TemporaryDirectory()
    preferences = Preferences(QSettings(f"{scratch.name}/demo.ini", QSettings.Format.IniFormat))
    preferences.webhook_port = 0
    session = open_console(preferences, SecretStore(), {}, force_sandbox=True, ring_delay=0.3)
    window, controller = session.window, session.controller
    window.resize(width, height)
    window.show()
    pending = list(DEMO_CALLS)

    def next_call() -> None:
        if controller.dialing:
            QTimer.singleShot(100, next_call)
            return
        to, room, identity = pending.pop(0)
        controller.dial(DialRequest(to, "+15005550006", room, identity))
        QTimer.singleShot(300, next_call if pending else finish)

    def finish() -> None:
        calls = controller.calls_model.records()
        settled = len(calls) == len(DEMO_CALLS) and all(
            c.status in ("in-progress", "busy") for c in calls
        )
        people = controller.participants_model.rowCount()
        if not settled or people < 2:
            window.rooms.select_room_named("DailyStandup")
            QTimer.singleShot(200, finish)
            return
        window.grab().save(str(args.file))
        app.quit()

    QTimer.singleShot(300, next_call)
    QTimer.singleShot(30_000, app.quit)  # never hang a script
    app.exec()
    session.window.close()
    session.shutdown()
    scratch.cleanup()
    if not args.file.exists():
        print("switchboard screenshot: the demo did not finish in 30 s", file=sys.stderr)
        return 1
    print(f"Saved {args.file}")
    return 0
