"""Every action one click away: shortcuts from the README, menus, right-click, drag, filter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLineEdit,
    QPushButton,
)

from console.models.participants_model import PARTICIPANT_MIME
from tests.gui.conftest import (
    choose,
    menu_texts,
    offers,
    right_click,
    ring_waiting_caller,
    sandbox_control,
)
from tests.gui.test_console_window import WAIT, dial_in, people, statuses
from tests.helpers.widgets import by_name

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_shortcuts() -> list[tuple[str, str]]:
    """(key sequence, what it does) for each shortcut in the README's table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| keys | action |") :].split("\n\n", 1)[0]
    found = []
    for line in table.splitlines()[2:]:
        keys, action = (cell.strip() for cell in line.strip("|").split("|"))
        for sequence in re.findall(r"Ctrl\+(?:Shift\+)?(?:[A-Z]|,)", keys):
            found.append((sequence, action))
    return found


def menu_actions(window) -> dict[str, QAction]:
    """Every action in the menu bar's menus, by its shortcut's text."""
    found = {}
    for top in window.menuBar().actions():
        for action in top.menu().actions():
            if not action.shortcut().isEmpty():
                found[action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)] = action
    return found


def test_every_readme_shortcut_is_in_a_menu(session):
    shortcuts = readme_shortcuts()
    assert len(shortcuts) >= 12 and ("Ctrl+E", "incoming call routes") in shortcuts
    in_menus = menu_actions(session.window)
    missing = [keys for keys, _ in shortcuts if keys not in in_menus]
    assert missing == []


@pytest.mark.parametrize(
    ("keys", "dialog"),
    [
        ("Ctrl+E", "routes"),
        ("Ctrl+Y", "history"),
        ("Ctrl+Shift+D", "dial-list"),
        ("Ctrl+I", "routing"),
        ("Ctrl+,", "settings"),
        ("Ctrl+N", "new-room"),
    ],
)
def test_readme_shortcuts_open_their_dialogs(qtbot, session, keys, dialog):
    window = session.window
    qtbot.waitUntil(lambda: window.actions.route.isEnabled(), timeout=WAIT)  # once started
    sequence = QKeySequence(keys)
    combo = sequence[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())
    qtbot.waitUntil(lambda: window.findChild(QDialog, dialog) is not None, timeout=WAIT)
    qtbot.waitUntil(window.findChild(QDialog, dialog).isVisible)


def test_ctrl_k_ctrl_l_and_ctrl_f_go_where_they_say(qtbot, session):
    window = session.window
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is by_name(window, "Filter rooms and people", QLineEdit)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is by_name(window, "Number", QLineEdit)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.event_log.isVisible)
    log_filter = by_name(window, "Filter event log", QLineEdit)
    qtbot.waitUntil(log_filter.hasFocus)  # the log opens ready to be searched
    qtbot.keyClick(log_filter, Qt.Key.Key_Escape)  # Escape closes it
    qtbot.waitUntil(lambda: not window.event_log.isVisible())


def test_right_click_a_participant_offers_move_and_moves(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Lobby", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    session.controller.create_room("Breakout")
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 2, timeout=WAIT)
    menu = right_click(qtbot, window.rooms.participants_view, 0)
    assert offers(
        menu,
        "Disconnect participant",
        "Move participant…",
        "Move to",
        "Copy number or identity",
        "Redial participant",
    ), menu_texts(menu)
    (move,) = [a for a in menu.actions() if a.text() == "&Move participant…"]
    assert move.shortcut().toString() == "Ctrl+M"  # the menu shows the shortcut
    choose(qtbot, menu, "Move to/Breakout")
    qtbot.waitUntil(lambda: window.rooms.select_room_named("Breakout"), timeout=WAIT)
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    assert window.statusBar().currentMessage() == "Moved alice to Breakout"


def test_copy_a_participants_number_from_its_menu(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Lobby", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    choose(qtbot, right_click(qtbot, window.rooms.participants_view, 0), "Copy number or identity")
    assert QGuiApplication.clipboard().text() == "+15551234567"
    assert window.statusBar().currentMessage() == "Copied +15551234567"


def test_room_menu_dials_into_it_and_selecting_a_room_leaves_the_pad_alone(qtbot, session):
    window = session.window
    for name in ("Alpha", "Beta"):
        session.controller.create_room(name)
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 2, timeout=WAIT)
    pad_room = by_name(window, "Room", QComboBox)
    pad_room.setEditText("Gamma")
    assert window.rooms.select_room_named("Beta")
    assert pad_room.currentText() == "Gamma"  # selecting a room no longer changes the pad
    row = [r.unique_name for r in session.controller.rooms_model.records()].index("Alpha")
    menu = right_click(qtbot, window.rooms.rooms_view, row)
    assert offers(menu, "Dial into this room", "Copy room name", "End room…"), menu_texts(menu)
    choose(qtbot, menu, "Dial into this room")
    assert pad_room.currentText() == "Alpha"
    assert QApplication.focusWidget() is by_name(window, "Number", QLineEdit)
    choose(qtbot, right_click(qtbot, window.rooms.rooms_view, row), "Copy room name")
    assert QGuiApplication.clipboard().text() == "Alpha"


def test_call_menu_redials_and_shows_the_call_in_history(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15005550002", "Support", "gina")  # busy
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550002") == ["busy"], timeout=WAIT)
    menu = right_click(qtbot, window.calls.view, 0)
    assert offers(
        menu,
        "Hang up selected call",
        "Redial selected call",
        "Copy number",
        "Show in history",
        "Twilio's page for this error",
    ), menu_texts(menu)
    hang_up = next(a for a in menu.actions() if "Hang up" in a.text())
    assert not hang_up.isEnabled()  # a finished call cannot be hung up
    choose(qtbot, menu, "Redial selected call")
    qtbot.waitUntil(lambda: statuses(calls, "+15005550002") == ["busy", "busy"], timeout=WAIT)
    assert {(c.room, c.identity) for c in calls.records()} == {("Support", "gina")}
    choose(qtbot, right_click(qtbot, window.calls.view, 0), "Show in history")
    dialog = window.findChild(QDialog, "history")
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible(), timeout=WAIT)
    assert dialog.search.text() == calls.records()[0].sid
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=WAIT)


def test_waiting_menu_puts_a_caller_in_a_room_in_one_click(qtbot, hold_routes, session):
    window = session.window
    session.controller.create_room("Lobby")
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 1, timeout=WAIT)
    ring_waiting_caller(qtbot, session)
    menu = right_click(qtbot, window.waiting.view, 0)
    assert offers(menu, "Put waiting caller in room", "Put in", "Hang up waiting caller")
    choose(qtbot, menu, "Put in/Lobby")
    qtbot.waitUntil(lambda: window.routing.waiting_model.rowCount() == 0, timeout=WAIT)
    qtbot.waitUntil(lambda: window.rooms.select_room_named("Lobby"), timeout=WAIT)
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    # The inbound call's row says who called, and on which of our numbers.
    calls = session.controller.calls_model
    (row,) = [[calls.index(0, c).data() for c in range(calls.columnCount())]]
    assert row[0] == "+1 415-555-0100 (US)" and row[-1] == "+1 500-555-0006 (US)"
    arrow = calls.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert not arrow.isNull()
    assert (
        calls.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
        == "+1 415-555-0100 (US) called +1 500-555-0006 (US)"
    )
    participants = session.controller.participants_model
    assert participants.index(0, 2).data() == "+1 415-555-0100 (US)"  # their number, shown


def test_waiting_menu_hangs_up_with_a_goodbye(qtbot, hold_routes, session):
    window = session.window
    sid = ring_waiting_caller(qtbot, session)
    sandbox_control(session, "Settings", ClockSpeed=20)  # the goodbye is said quickly
    choose(qtbot, right_click(qtbot, window.waiting.view, 0), "Hang up waiting caller")
    qtbot.waitUntil(lambda: window.routing.waiting_model.rowCount() == 0, timeout=WAIT)
    gateway = session.runtime.gateway
    qtbot.waitUntil(lambda: gateway.fetch_call(sid).status == "completed", timeout=WAIT)


def test_drag_a_participant_onto_another_room_to_move_them(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Lobby", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    session.controller.create_room("Breakout")
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 2, timeout=WAIT)
    people_view = window.rooms.participants_view
    assert people_view.dragEnabled()
    people_view.selectRow(0)
    data = people_view.model().mimeData(people_view.selectionModel().selectedIndexes())
    assert data.formats() == [PARTICIPANT_MIME]
    rooms = window.rooms.rooms_view
    target = [r.unique_name for r in session.controller.rooms_model.records()].index("Breakout")
    point = rooms.visualRect(rooms.model().index(target, 0)).center()
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(rooms.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(
        point,
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(rooms.viewport(), move)
    assert move.isAccepted() and rooms.drop_row == target  # the room under the cursor is lit
    assert rooms.itemDelegate() is not rooms._plain_delegate  # the lighting one, while dragging
    drop = QDropEvent(
        QPointF(point),
        Qt.DropAction.MoveAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(rooms.viewport(), drop)
    assert rooms.drop_row == -1
    assert rooms.itemDelegate() is rooms._plain_delegate  # Qt's own again: no Python per cell
    qtbot.waitUntil(lambda: window.rooms.select_room_named("Breakout"), timeout=WAIT)
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    other = QMimeData()
    other.setText("alice")
    refused = QDragMoveEvent(
        point,
        Qt.DropAction.MoveAction,
        other,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(rooms.viewport(), refused)
    assert not refused.isAccepted()


def test_the_filter_shows_matching_rooms_and_people(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Lobby", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    session.controller.create_room("Board")
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 2, timeout=WAIT)
    rooms = window.rooms.rooms_view
    names = [r.unique_name for r in session.controller.rooms_model.records()]

    def shown() -> list[str]:
        return [n for row, n in enumerate(names) if not rooms.isRowHidden(row)]

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(QApplication.focusWidget(), "boa")
    assert shown() == ["Board"]
    box = by_name(window, "Filter rooms and people", QLineEdit)
    box.clear()
    qtbot.keyClicks(box, "alice")  # a person: the room they are in stays
    assert shown() == ["Lobby"]
    box.clear()
    qtbot.keyClicks(box, "555-123")  # a number, as shown
    assert shown() == ["Lobby"]
    box.clear()
    assert sorted(shown()) == ["Board", "Lobby"]


def test_a_placed_dial_clears_number_and_identity_and_says_so(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Desk", "ivy")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: calls.rowCount() == 1, timeout=WAIT)
    assert by_name(window, "Number", QLineEdit).text() == ""
    assert by_name(window, "Identity", QLineEdit).text() == ""
    assert by_name(window, "Room", QComboBox).currentText() == "Desk"
    assert not by_name(window, "Dial", QPushButton).isEnabled()  # Enter cannot redial
    assert window.statusBar().currentMessage().startswith("Called +1 555-123-4567 (US) into Desk")


def test_dial_and_every_icon_only_control_has_a_tooltip(session):
    window = session.window
    buttons = [
        b
        for b in window.findChildren(QAbstractButton)
        if b.isVisibleTo(window) and not any(ch.isalpha() for ch in b.text().replace("&", ""))
    ]
    assert len(buttons) >= 14  # the keypad and backspace
    assert [b.accessibleName() for b in buttons if not b.toolTip()] == []
    assert "Ctrl+D" in by_name(window, "Dial", QPushButton).toolTip()


def test_the_status_bar_says_what_just_happened(qtbot, session):
    window = session.window
    session.controller.create_room("Said")
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "Created room Said", timeout=WAIT
    )
    dial_in(qtbot, session, "+15551234567", "Said", "zed")
    qtbot.waitUntil(lambda: people_in(session, "Said") == ["zed"], timeout=WAIT)
    dial_in(qtbot, session, "+15551234568", "Said", "zed")
    qtbot.waitUntil(
        lambda: (
            window.findChild(QPushButton, "") is not None
            and any(b.text() == "Cancel" for b in window.findChildren(QPushButton))
        ),
        timeout=WAIT,
    )
    (cancel,) = [
        b for b in window.findChildren(QPushButton) if b.text() == "Cancel" and b.isVisible()
    ]
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "Dial cancelled: no call was placed",
        timeout=WAIT,
    )
    assert by_name(window, "Dial", QPushButton).text() == "Dial"  # no stale "Dialing…"


def people_in(session, room: str) -> list[str]:
    gateway = session.runtime.gateway
    found = gateway.find_room(room)
    return [p.identity for p in gateway.list_participants(found.sid)] if found else []


def press(qtbot, window, keys: str) -> None:
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())


def test_the_selection_shortcuts_act_on_the_selection(qtbot, session):
    window = session.window
    dial_in(qtbot, session, "+15551234567", "Keys", "kim")
    qtbot.waitUntil(lambda: people(session) == [("kim", "connected")], timeout=WAIT)
    pad_room = by_name(window, "Room", QComboBox)
    pad_room.setEditText("Elsewhere")
    press(qtbot, window, "Ctrl+J")  # the selected room becomes the pad's
    assert pad_room.currentText() == "Keys"
    window.rooms.participants_view.selectRow(0)
    press(qtbot, window, "Ctrl+M")
    qtbot.waitUntil(lambda: window.findChild(QDialog, "move") is not None, timeout=WAIT)
    window.findChild(QDialog, "move").reject()
    window.activateWindow()  # offscreen, a closed dialog hands the focus back to no one
    by_name(window, "Number", QLineEdit).setFocus()
    press(qtbot, window, "Ctrl+Shift+X")
    qtbot.waitUntil(lambda: people(session) == [], timeout=WAIT)
    assert window.statusBar().currentMessage() == "Disconnected kim"
    press(qtbot, window, "Ctrl+Shift+I")  # sandbox mode: simulate a call
    qtbot.waitUntil(lambda: window.findChild(QDialog, "simulate-call") is not None, timeout=WAIT)
