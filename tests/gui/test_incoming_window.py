"""Incoming calls in the window: a held caller waits, the operator puts them in a room, moves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QPushButton, QTableView

from tests.gui.conftest import sandbox_control
from tests.gui.test_console_window import WAIT, people
from tests.helpers.widgets import by_name
from webhook.routes_file import default_routes_path

HOLD_EVERYONE = '[[route]]\nnumber = "*"\nhold = true\n\n[callers]\n"+14155550100" = "alice"\n'


@pytest.fixture(autouse=True)
def routes(user_dirs):
    """Every incoming call waits for the operator (the file the console's webhook reads)."""
    path = default_routes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOLD_EVERYONE)
    return path


def route_line_here(session) -> None:
    runtime = session.runtime
    line = next(n for n in runtime.gateway.list_numbers() if n.number == "+15005550006")
    public = runtime.public_url
    runtime.gateway.set_voice_url(line.sid, f"{public}/voice/incoming", f"{public}/voice/status")


def ring(session, caller: str) -> str:
    return sandbox_control(session, "IncomingCalls", From=caller, To="+15005550006")["sid"]


def waiting(session) -> list[str]:
    return [c.from_ for c in session.window.routing.waiting_model.records()]


def select_room(qtbot, session, name: str) -> None:
    qtbot.waitUntil(lambda: session.window.rooms.select_room_named(name), timeout=WAIT)


def test_a_held_caller_waits_and_the_operator_puts_them_in_a_room(qtbot, session):
    route_line_here(session)
    ring(session, "+14155550100")
    qtbot.waitUntil(lambda: waiting(session) == ["+14155550100"], timeout=WAIT)
    panel = session.window.waiting
    table = by_name(panel, "Waiting", QTableView)
    table.selectRow(0)
    assert by_name(panel, "Waiting identity", QLineEdit).text() == "alice"
    room = by_name(panel, "Waiting room", QComboBox)
    room.lineEdit().clear()
    qtbot.keyClicks(room.lineEdit(), "Lobby")
    qtbot.mouseClick(by_name(panel, "Put in room", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: waiting(session) == [], timeout=WAIT)
    select_room(qtbot, session, "Lobby")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    (alice,) = session.controller.participants_model.records()
    assert alice.kind == "phone" and alice.call_sid  # the console now knows this call


def test_a_caller_who_hangs_up_leaves_the_waiting_list(qtbot, session):
    route_line_here(session)
    sid = ring(session, "+14155550111")
    qtbot.waitUntil(lambda: waiting(session) == ["+14155550111"], timeout=WAIT)
    sandbox_control(session, f"Calls/{sid}/Hangup")
    qtbot.waitUntil(lambda: waiting(session) == [], timeout=WAIT)
    assert any("hung up" in line for line in session.window.event_log.lines())


def test_move_a_connected_caller_to_another_room(qtbot, session):
    route_line_here(session)
    sid = ring(session, "+14155550100")
    qtbot.waitUntil(lambda: waiting(session) == ["+14155550100"], timeout=WAIT)
    session.window.routing.put_in_room(sid, "Lobby", "alice")
    select_room(qtbot, session, "Lobby")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    session.window.rooms.participants_view.selectRow(0)
    move = session.window.rooms.move_button
    qtbot.waitUntil(move.isEnabled)
    qtbot.mouseClick(move, Qt.MouseButton.LeftButton)
    dialog = session.window.findChild(QDialog, "move")
    qtbot.waitUntil(dialog.isVisible)
    destination = by_name(dialog, "Destination room", QComboBox)
    destination.lineEdit().clear()
    qtbot.keyClicks(destination.lineEdit(), "Breakout")
    dialog.accept()
    select_room(qtbot, session, "Breakout")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    select_room(qtbot, session, "Lobby")
    qtbot.waitUntil(lambda: people(session) == [], timeout=WAIT)
