"""A demo shift in the sandbox, pictured: calls that went well and badly, a waiting caller, and
a right-click menu open on the failed call. Makes the README's screenshots.

    python -m console.ui.demo_scene FILE [--size 1180x720]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from console.app import ConsoleSession, open_console
from console.core.calls.dial_input import DialRequest
from console.core.preferences import Preferences
from console.core.secrets_store import SecretStore
from console.models.calls_model import DURATION_COLUMN

LINE, HELD_LINE = "+15005550006", "+15005550007"
DEMO_CALLS = (
    ("+15551234567", "DailyStandup", "alice"),
    ("sip:bob@example.com", "DailyStandup", "bob"),
    ("+15005550002", "Support", "carol"),  # busy
    ("+15005550004", "Support", "dan"),  # fails
)
WAITING_CALLER = "+442071838750"
HOLD_ROUTES = f'[[route]]\nnumber = "{HELD_LINE}"\nhold = true\n'
GIVE_UP_MS = 30_000


def hold_calls_to_the_second_line() -> None:
    """routes.toml (in the current config directory) puts callers to the second line on hold."""
    from webhook.routes_file import default_routes_path

    path = default_routes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOLD_ROUTES)


def stage(session: ConsoleSession, done: Callable[[], None]) -> None:
    """Dial the demo calls, ring a waiting caller, then call done() once all of it shows."""
    controller, window = session.controller, session.window
    pending = list(DEMO_CALLS)

    def next_call() -> None:
        if controller.dialing:
            QTimer.singleShot(100, next_call)
            return
        if pending:
            to, room, identity = pending.pop(0)
            controller.dial(DialRequest(to, LINE, room, identity))
            QTimer.singleShot(250, next_call)
            return
        window.routing.simulate_incoming(WAITING_CALLER, HELD_LINE)
        QTimer.singleShot(300, settle)

    def settle() -> None:
        calls = controller.calls_model.records()
        statuses = sorted(c.status for c in calls)
        window.rooms.select_room_named("DailyStandup")
        ready = (
            statuses == ["busy", "failed", "in-progress", "in-progress"]
            and controller.participants_model.rowCount() == 2
            and window.routing.waiting_model.rowCount() == 1
        )
        if not ready:
            QTimer.singleShot(200, settle)
            return
        failed = next(c for c in calls if c.status == "failed")
        window.calls.select_call(failed.sid)
        window.dial_pad.set_room("DailyStandup")
        QTimer.singleShot(600, done)  # the ages and waiting times tick once more

    next_call()


def picture(session: ConsoleSession) -> QPixmap:
    """The window with the failed call's right-click menu open over it (menus are windows of
    their own, so the menu is painted onto the window's picture where it opened)."""
    window = session.window
    view = window.calls.view
    calls = session.controller.calls_model
    row = next(r for r, c in enumerate(calls.records()) if c.status == "failed")
    cell = view.visualRect(view.model().index(row, DURATION_COLUMN))  # right of its reason
    menu = window.actions.context_menu(view, cell.center())
    assert menu is not None
    size = menu.sizeHint()
    spot = view.viewport().mapTo(window, cell.center())
    spot.setX(max(0, min(spot.x(), window.width() - size.width() - 8)))  # stays on the picture
    spot.setY(max(0, min(spot.y(), window.height() - size.height() - 30)))
    menu.popup(window.mapToGlobal(spot))
    QApplication.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(spot, menu.grab())
    painter.end()
    menu.close()
    return shot


def main(argv: list[str] | None = None) -> int:
    """Run the demo against a fresh sandbox (scratch settings) and save the picture."""
    parser = argparse.ArgumentParser(prog="python -m console.ui.demo_scene")
    parser.add_argument("file", type=Path)
    parser.add_argument("--size", default="1180x720")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.lower().split("x"))
    scratch = tempfile.TemporaryDirectory()
    os.environ["XDG_CONFIG_HOME"] = f"{scratch.name}/config"  # never the operator's files
    os.environ["XDG_DATA_HOME"] = f"{scratch.name}/data"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    hold_calls_to_the_second_line()
    preferences = Preferences(QSettings(f"{scratch.name}/demo.ini", QSettings.Format.IniFormat))
    preferences.webhook_port = 0
    session = open_console(preferences, SecretStore(), {}, force_sandbox=True, ring_delay=0.3)
    session.window.resize(width, height)
    session.window.show()

    def done() -> None:
        picture(session).save(str(args.file))
        app.quit()

    stage(session, done)
    QTimer.singleShot(GIVE_UP_MS, app.quit)
    app.exec()
    session.window.close()
    session.shutdown()
    scratch.cleanup()
    return saved(args.file, "the demo")


def saved(file: Path, what: str, give_up_ms: int = GIVE_UP_MS) -> int:
    """Say where the picture went (0), or that the scene gave up before taking it (1)."""
    if not file.exists():
        print(f"{what} did not finish in {give_up_ms // 1000} s", file=sys.stderr)
        return 1
    print(f"Saved {file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
