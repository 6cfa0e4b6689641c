"""Two operators' consoles side by side on the team demo, pictured: one caller claimed by ada
(grace's console says so), one still waiting, and ada on a call. Makes the README's picture.

    python -m console.commands.team_scene FILE [--size 1180x720]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from console.app import ConsoleSession, open_console
from console.core.calls.dial_input import DialRequest
from console.core.preferences import Preferences
from console.ui.demo_scene import saved

CALLERS = ("+442071838750", "+33142685300")
CALLEE = "+15551234567"
GIVE_UP_MS = 60_000
GAP = 16  # pixels between the two windows


def _console(scratch: str, name: str, server: str, token: str, size: tuple[int, int]):
    settings = QSettings(f"{scratch}/{name}.ini", QSettings.Format.IniFormat)
    preferences = Preferences(settings)
    preferences.refresh_interval = 1
    env = {"SWITCHBOARD_SERVER": server, "SWITCHBOARD_TOKEN": token}
    session = open_console(preferences, None, env)
    session.window.resize(*size)
    session.window.show()
    return session


def side_by_side(left: QPixmap, right: QPixmap) -> QPixmap:
    """Two window pictures next to each other on one canvas."""
    canvas = QPixmap(left.width() + GAP + right.width(), max(left.height(), right.height()))
    canvas.fill(QApplication.palette().window().color().darker(115))
    painter = QPainter(canvas)
    painter.drawPixmap(0, 0, left)
    painter.drawPixmap(left.width() + GAP, 0, right)
    painter.end()
    return canvas


def stage(
    ada: ConsoleSession, grace: ConsoleSession, ring: Callable[[str], str], done: Callable[[], None]
) -> None:
    """Ada dials in a callee; two callers ring; ada claims the first; done() once both show it."""
    sids: list[str] = []

    def begin() -> None:
        if "connected" not in ada.window.status.health.text():
            QTimer.singleShot(100, begin)
            return
        ada.controller.dial(DialRequest(CALLEE, "+15005550006", "DailyStandup", "alice"))
        for caller in CALLERS:
            sids.append(ring(caller))
        QTimer.singleShot(300, claim)

    def claim() -> None:
        model = grace.window.routing.waiting_model
        if model.rowCount() < len(CALLERS):
            QTimer.singleShot(100, claim)
            return
        ada.controller.runner.submit(lambda: ada.runtime.gateway.claim(sids[0]))
        QTimer.singleShot(300, settle)

    def settle() -> None:
        held = grace.window.routing.waiting_model.held_by_other(sids[0])
        in_room = ada.controller.participants_model.rowCount()
        ada.window.rooms.select_room_named("DailyStandup")
        grace.window.rooms.select_room_named("DailyStandup")
        if held != "ada" or not in_room:
            QTimer.singleShot(200, settle)
            return
        QTimer.singleShot(1200, done)  # presence and waiting times tick once more

    begin()


def main(argv: list[str] | None = None) -> int:
    """Start the team demo (no window of its own), open two consoles, and save the picture."""
    parser = argparse.ArgumentParser(prog="python -m console.commands.team_scene")
    parser.add_argument("file", type=Path)
    parser.add_argument("--size", default="1180x720")
    args = parser.parse_args(argv)
    size = tuple(int(part) for part in args.size.lower().split("x"))
    scratch = tempfile.TemporaryDirectory()
    os.environ["XDG_CONFIG_HOME"] = f"{scratch.name}/config"  # never the operator's files
    os.environ["XDG_DATA_HOME"] = f"{scratch.name}/data"
    import requests

    from console.commands.team_demo import TeamDemo

    demo = TeamDemo(threading.Event(), print, ring_delay=0.3)
    try:
        demo.start()
        app = QApplication.instance() or QApplication(sys.argv[:1])

        def ring(caller: str) -> str:
            answer = requests.post(
                f"{demo.sandbox_url}/sandbox/IncomingCalls",
                data={"From": caller, "To": demo.numbers[0]},
                auth=(demo.account, demo.auth_token),
                timeout=10,
            )
            answer.raise_for_status()
            return str(answer.json()["sid"])

        ada = _console(scratch.name, "ada", demo.server_url, demo.tokens["ada"], size)
        grace = _console(scratch.name, "grace", demo.server_url, demo.tokens["grace"], size)

        def done() -> None:
            side_by_side(ada.window.grab(), grace.window.grab()).save(str(args.file))
            app.quit()

        stage(ada, grace, ring, done)
        QTimer.singleShot(GIVE_UP_MS, app.quit)
        app.exec()
        for session in (ada, grace):
            session.window.close()
            session.shutdown()
    finally:
        demo.close()
        scratch.cleanup()
    return saved(args.file, "the team scene", GIVE_UP_MS)


if __name__ == "__main__":
    sys.exit(main())
