"""Quit and End room ask first when callers or calls would be lost; otherwise they are instant."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QMessageBox, QPushButton

from console.call_routing import GOODBYE
from tests.gui.conftest import ring_waiting_caller, sandbox_control, sandbox_get
from tests.gui.test_console_window import WAIT, dial_in, people, statuses
from tests.helpers.widgets import by_name


def press_quit(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def quit_dialog(qtbot, window) -> QDialog:
    qtbot.waitUntil(lambda: window.findChild(QDialog, "quit") is not None, timeout=WAIT)
    dialog = window.findChild(QDialog, "quit")
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def call_status(session, sid: str) -> str:
    return session.runtime.gateway.fetch_call(sid).status


def test_a_quit_with_nothing_at_stake_is_instant(qtbot, session):
    window = session.window
    qtbot.waitUntil(lambda: session.runtime is not None and window.dial_pad.isEnabled())
    press_quit(qtbot, window)
    assert not window.isVisible()  # closed in the same event, no question asked
    assert window.findChild(QDialog, "quit") is None


def test_quit_with_a_waiting_caller_asks_then_plays_a_goodbye_and_hangs_up(
    qtbot, hold_routes, session
):
    window = session.window
    sid = ring_waiting_caller(qtbot, session)
    sandbox_control(session, "Settings", ClockSpeed=20)  # the goodbye is said quickly
    press_quit(qtbot, window)
    dialog = quit_dialog(qtbot, window)
    assert window.isVisible()  # nothing closed yet: the caller is still on hold
    assert "1 caller is waiting" in by_name(dialog, "Quit summary").text()
    cancel = by_name(dialog, "Cancel", QPushButton)
    assert cancel.isDefault()  # Enter keeps the caller
    goodbye = by_name(dialog, "Say goodbye, hang up and quit", QPushButton)
    qtbot.mouseClick(goodbye, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    # The webhook and sandbox are still up (the fixture stops them): the caller heard goodbye.
    qtbot.waitUntil(lambda: call_status(session, sid) == "completed", timeout=WAIT)
    heard = [item["text"] for item in sandbox_get(session, f"Calls/{sid}/Heard")["heard"]]
    assert heard[-1] == GOODBYE
    errors = sandbox_get(session, f"Errors?CallSid={sid}")["errors"]
    assert errors == []  # no 11200: the hold webhook was there until the redirect was answered


def test_quit_with_a_waiting_caller_can_put_them_in_a_room_first(qtbot, hold_routes, session):
    window = session.window
    ring_waiting_caller(qtbot, session)
    press_quit(qtbot, window)
    dialog = quit_dialog(qtbot, window)
    room = by_name(dialog, "Room for waiting callers", QComboBox)
    room.lineEdit().clear()
    qtbot.keyClicks(room.lineEdit(), "Overnight")
    place = by_name(dialog, "Put them in the room and quit", QPushButton)
    qtbot.mouseClick(place, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    gateway = session.runtime.gateway

    def in_room() -> list[str]:
        found = gateway.find_room("Overnight")
        return [p.identity for p in gateway.list_participants(found.sid)] if found else []

    qtbot.waitUntil(lambda: in_room() == ["alice"], timeout=WAIT)  # named by routes.toml


def test_cancelling_the_quit_keeps_the_window_and_the_caller(qtbot, hold_routes, session):
    window = session.window
    ring_waiting_caller(qtbot, session)
    press_quit(qtbot, window)
    dialog = quit_dialog(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.isVisible()
    assert window.routing.waiting_model.rowCount() == 1
    assert window.statusBar().currentMessage() == "Still here: nothing was quit."


def test_quit_cancels_a_call_still_ringing(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15005550003", "Support", "frank")  # rings for a minute
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550003") == ["ringing"], timeout=WAIT)
    (call,) = calls.records()
    press_quit(qtbot, window)
    dialog = quit_dialog(qtbot, window)
    assert "1 call is still ringing" in by_name(dialog, "Quit summary").text()
    qtbot.mouseClick(by_name(dialog, "Quit", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: call_status(session, call.sid) == "canceled", timeout=WAIT)


def end_room_box(qtbot, window) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "end-room") is not None, timeout=WAIT)
    box = window.findChild(QMessageBox, "end-room")
    qtbot.waitUntil(box.isVisible)
    return box


def test_ending_a_room_with_people_asks_and_enter_keeps_it(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Retro", "erin")
    qtbot.waitUntil(lambda: people(session) == [("erin", "connected")], timeout=WAIT)
    qtbot.waitUntil(lambda: session.controller.rooms_model.records()[0].participant_count == 1)
    qtbot.keyClick(
        window,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    box = end_room_box(qtbot, window)
    assert box.defaultButton().text() == "Cancel"
    assert "1 person in it" in box.text()
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default: nothing is ended
    qtbot.waitUntil(lambda: not box.isVisible())
    session.controller.refresh()
    qtbot.wait(300)
    assert [r.unique_name for r in session.controller.rooms_model.records()] == ["Retro"]
    assert people(session) == [("erin", "connected")]


def test_an_empty_room_ends_without_a_question(qtbot, session):
    window = session.window
    session.controller.create_room("Empty")
    qtbot.waitUntil(lambda: window.rooms.select_room_named("Empty"), timeout=WAIT)
    qtbot.mouseClick(by_name(window, "End room", QPushButton), Qt.MouseButton.LeftButton)
    assert window.findChild(QMessageBox, "end-room") is None
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 0, timeout=WAIT)
    assert window.statusBar().currentMessage() == "Ended room Empty"
