"""The window at 900×600 up to 1920×1080, and the dialogs' sizes and alignment."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QPushButton,
    QTableView,
    QWidget,
)

from console.models.calls_model import ERROR_COLUMN
from tests.gui.test_console_window import WAIT, dial_in, statuses
from tests.helpers.widgets import by_name

PANELS = ("Rooms", "Participants", "Calls", "Waiting")


def resized(qtbot, window, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)


def inside(window: QWidget, widget: QWidget) -> bool:
    """Whether the whole widget lies within the window."""
    rect = widget.rect().translated(widget.mapTo(window, widget.rect().topLeft()))
    return window.rect().contains(rect)


@pytest.mark.parametrize("size", [(900, 600), (1024, 640), (1180, 720)])
def test_nothing_is_cut_off_and_the_error_column_is_reachable(qtbot, session, size):
    window = session.window
    dial_in(qtbot, session, "+15005550002", "Support", "gina")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550002") == ["busy"], timeout=WAIT)
    resized(qtbot, window, size)
    for name in PANELS:
        view = by_name(window, name, QTableView)
        assert view.isVisible() and inside(window, view), f"{name} is cut off at {size}"
        assert view.viewport().height() >= view.verticalHeader().defaultSectionSize(), name
    for name in ("Dial", "Put in room", "Hang up", "New room", "Disconnect"):
        assert inside(window, by_name(window, name, QPushButton)), f"{name} cut off at {size}"
    view = by_name(window, "Calls", QTableView)
    error = calls.index(0, ERROR_COLUMN)
    view.scrollTo(error)
    rect = view.visualRect(error)
    assert view.viewport().rect().contains(rect), f"the Error column is out of reach at {size}"
    assert calls.index(0, ERROR_COLUMN).data() == "busy"


def test_at_1920_the_extra_width_goes_to_the_columns_that_need_it(qtbot, session):
    window = session.window
    resized(qtbot, window, (1920, 1080))
    for name in PANELS:
        view = by_name(window, name, QTableView)
        assert not view.horizontalScrollBar().isVisible(), f"{name} scrolls sideways"
    rooms = by_name(window, "Rooms", QTableView)
    widths = [rooms.columnWidth(c) for c in range(4)]
    assert widths[0] == max(widths) and widths[3] < 2 * rooms.starting_widths()[3]  # Room, not Age
    calls = by_name(window, "Calls", QTableView)
    widths = [calls.columnWidth(c) for c in range(calls.model().columnCount())]
    assert widths[ERROR_COLUMN] == max(widths)  # the reasons get the room
    assert window.dial_pad.width() < 420  # the pad does not grow with the screen


def test_the_settings_groups_line_their_fields_up(qtbot, session):
    qtbot.keyClick(session.window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "settings")
    qtbot.waitUntil(dialog.isVisible)
    lefts = set()
    for box in dialog.findChildren(QGroupBox):
        form = box.layout()
        assert isinstance(form, QFormLayout)
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is None or field is None or not isinstance(label.widget(), QLabel):
                continue
            if label.widget().text() and field.widget() and field.widget().isVisible():
                lefts.add(field.widget().mapTo(dialog, field.widget().rect().topLeft()).x())
    assert len(lefts) == 1, f"fields start at {sorted(lefts)}"


def test_new_room_is_not_a_postage_stamp(qtbot, session):
    qtbot.keyClick(session.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "new-room")
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.width() >= 420


def test_history_opens_wide_enough_for_every_column(qtbot, session):
    qtbot.keyClick(session.window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "history")
    qtbot.waitUntil(dialog.isVisible)
    table = by_name(dialog, "History", QTableView)
    wanted = sum(table.starting_widths())
    screen = dialog.screen().availableGeometry().width()
    if wanted + 100 < screen:  # a desktop's screen: every column shows without scrolling
        assert table.viewport().width() >= wanted
        assert not table.horizontalScrollBar().isVisible()
    else:  # a small screen (offscreen is 800 wide): as wide as it allows
        assert dialog.width() >= screen - 60


def test_route_here_says_what_a_number_rings_without_a_stray_dash(qtbot, session):
    window = session.window
    qtbot.waitUntil(lambda: window.actions.route.isEnabled(), timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(QDialog, "routing")
    qtbot.waitUntil(dialog.isVisible)
    numbers = by_name(dialog, "Numbers", QListWidget)
    qtbot.waitUntil(lambda: numbers.count() >= 2, timeout=WAIT)
    texts = [numbers.item(i).text() for i in range(numbers.count())]
    assert not any("—" in text for text in texts)
    assert all("no Voice URL yet" in text or "rings " in text for text in texts)


def test_the_event_log_highlights_errors_filters_and_copies(qtbot, session):
    from PySide6.QtGui import QFont, QGuiApplication

    log = session.window.event_log
    log.write("Room Lobby: room-created")
    log.write("ERROR Could not end room Lobby: Room not found")
    log.write("POST /voice/outbound → 403\n    signature check failed")
    qtbot.keyClick(session.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(log.isVisible)
    view = by_name(session.window, "Event log", QListView)
    rows = {view.model().index(r, 0).data(): r for r in range(view.model().rowCount())}

    def look(fragment: str) -> tuple:
        (row,) = [r for text, r in rows.items() if fragment in text]
        index = view.model().index(row, 0)
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        font = index.data(Qt.ItemDataRole.FontRole)
        return (brush.color().name() if brush else None, isinstance(font, QFont) and font.bold())

    assert look("room-created") == (None, False)
    red, bold = look("Room not found")
    assert bold and QColor(red).red() > 150 and QColor(red).green() < 140
    assert look("signature check failed")[1]  # the second line of a 403 is part of the error
    filter_box = by_name(session.window, "Filter event log", QLineEdit)
    qtbot.keyClicks(filter_box, "outbound")
    shown = log.shown_lines()  # the whole entry: both its lines
    assert len(shown) == 2 and shown[0].endswith("POST /voice/outbound → 403")
    assert shown[1] == "    signature check failed"
    view.selectAll()
    log.copy_selection()
    assert "signature check failed" in QGuiApplication.clipboard().text()
    filter_box.clear()
    assert any("room-created" in line for line in log.shown_lines())


def test_the_event_log_keeps_its_last_lines_only(qapp):
    from console.ui.window.event_log import EventLog

    log = EventLog(max_lines=100)
    for n in range(250):
        log.write(f"line {n}")
    lines = log.lines()
    assert len(lines) == 100 and lines[-1].endswith("line 249") and lines[0].endswith("line 150")


@pytest.fixture
def demo_routes(user_dirs):
    from console.ui.demo_scene import hold_calls_to_the_second_line

    hold_calls_to_the_second_line()


def test_the_demo_scene_pictures_a_waiting_caller_a_failed_call_and_a_menu(
    qtbot, demo_routes, session
):
    from console.ui.demo_scene import picture, stage

    window = session.window
    ready: list[bool] = []
    stage(session, lambda: ready.append(True))
    qtbot.waitUntil(lambda: ready == [True], timeout=20_000)
    statuses = sorted(c.status for c in session.controller.calls_model.records())
    assert statuses == ["busy", "failed", "in-progress", "in-progress"]
    assert window.routing.waiting_model.rowCount() == 1
    bare = window.grab().toImage()
    shot = picture(session).toImage()
    assert (shot.width(), shot.height()) == (window.width(), window.height())
    assert shot != bare  # the right-click menu is painted over the window
