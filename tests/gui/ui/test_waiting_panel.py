"""The Waiting list: callers on hold, Put in room, and dragging a caller onto a room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QLabel, QLineEdit

from console.core.calls.records import Room
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.models.waiting_model import (
    CALL_SID_MIME,
    HANDLER_COLUMN,
    WaitingCaller,
    WaitingModel,
    call_sid_of,
    format_waiting,
)
from console.ui.rooms_panel import RoomsPanel
from console.ui.waiting_panel import WaitingPanel
from tests.helpers.widgets import by_name
from webhook.events import CallerWaiting

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
ALICE = WaitingCaller("CA1", "+14155550100", "+15005550006", NOW - timedelta(seconds=192), "alice")
BOB = WaitingCaller(
    "CA2", "sip:bob@example.com", "+15005550007", NOW - timedelta(seconds=41), "bob"
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def model(clock) -> WaitingModel:
    return WaitingModel(clock=clock)


@pytest.fixture
def panel(qtbot, model) -> WaitingPanel:
    widget = WaitingPanel(model)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def cells(model: WaitingModel, row: int) -> list[str]:
    return [model.index(row, column).data() for column in range(model.columnCount())]


def test_model_passes_qtmodeltester(qtmodeltester, model):
    model.add(ALICE)
    model.add(BOB)
    model.set_pending(BOB.call_sid, True)
    qtmodeltester.check(model)


def test_callers_are_listed_oldest_first_and_leave_by_call_sid(model):
    model.add(BOB)
    model.add(ALICE)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "Caller",
        "Waiting",
        "Number",
    ]
    assert cells(model, 0) == ["+1 415-555-0100 (US)", "3m 12s", "+1 500-555-0006 (US)"]
    assert cells(model, 1) == ["sip:bob@example.com", "41s", "+1 500-555-0007 (US)"]
    tip = model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == (
        "+1 415-555-0100 (US) called +1 500-555-0006 (US) and has waited 3m 12s; joins as alice"
    )
    model.add(BOB)  # the same call again replaces its row
    assert model.rowCount() == 2
    assert model.remove("CA1") is True
    assert model.remove("CA1") is False
    assert [w.call_sid for w in model.records()] == ["CA2"]
    assert model.caller("CA2") == BOB and model.caller("CA1") is None


def test_a_caller_from_the_webhook_event(model):
    event = CallerWaiting("CA9", "+16505550100", "+15005550006", NOW, "phone-0100")
    model.add(WaitingCaller.from_event(event))
    assert cells(model, 0) == ["+1 650-555-0100 (US)", "0s", "+1 500-555-0006 (US)"]
    assert "joins as phone-0100" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert WaitingCaller.from_event(CallerWaiting("CA8", "+1", "+2", NOW)).identity == ""


def test_format_waiting():
    assert [format_waiting(s) for s in (-3, 0, 59, 60, 192, 3599, 3600, 3780)] == [
        "0s",
        "0s",
        "59s",
        "1m 00s",
        "3m 12s",
        "59m 59s",
        "1h 00m",
        "1h 03m",
    ]


def test_tick_redraws_the_waiting_times(qtbot, model, clock):
    model.add(ALICE)
    model.add(BOB)
    clock.now = NOW + timedelta(seconds=1)
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as changed:
        model.tick()
    top_left, bottom_right = changed.args[:2]
    assert (top_left.row(), top_left.column()) == (0, 1)
    assert (bottom_right.row(), bottom_right.column()) == (1, 1)
    assert model.index(0, 1).data() == "3m 13s"
    assert model.index(1, 1).data() == "42s"


def test_an_empty_list_says_so(panel, model):
    hint = by_name(panel, "Waiting hint", QLabel)
    assert hint.isVisible() and "Nobody is waiting" in hint.text()
    model.add(ALICE)
    assert not hint.isVisible()
    model.remove(ALICE.call_sid)
    assert hint.isVisible()


def test_put_in_room_uses_the_suggested_identity(qtbot, panel, model):
    model.add(ALICE)
    model.add(BOB)
    panel.set_rooms(["Support", "DailyStandup"])
    room = by_name(panel, "Waiting room", QComboBox)
    assert [room.itemText(i) for i in range(room.count())] == ["DailyStandup", "Support"]
    identity = by_name(panel, "Waiting identity", QLineEdit)
    button = by_name(panel, "Put in room")
    assert panel.current_caller() == ALICE  # the one who has waited longest
    assert identity.text() == "alice"
    assert not button.isEnabled()  # no room yet
    qtbot.keyClicks(room.lineEdit(), "Support")
    assert button.isEnabled()
    with qtbot.waitSignal(panel.put_in_room_requested, timeout=1000) as request:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert request.args == ["CA1", "Support", "alice"]

    panel.select_caller("CA2")
    assert identity.text() == "bob"
    identity.clear()
    qtbot.keyClicks(identity, "dana")
    with qtbot.waitSignal(panel.put_in_room_requested, timeout=1000) as request:
        qtbot.keyClick(identity, Qt.Key.Key_Return)
    assert request.args == ["CA2", "Support", "dana"]
    room.lineEdit().clear()
    qtbot.keyClicks(room.lineEdit(), "Overflow")
    with qtbot.waitSignal(panel.put_in_room_requested, timeout=1000) as request:
        qtbot.keyClick(room.lineEdit(), Qt.Key.Key_Return)
    assert request.args == ["CA2", "Overflow", "dana"]
    assert room.count() == 2  # a typed name is not added to the list


def test_a_refresh_keeps_what_the_operator_typed(qtbot, panel, model):
    model.add(ALICE)
    identity = by_name(panel, "Waiting identity", QLineEdit)
    identity.clear()
    qtbot.keyClicks(identity, "alice-desk")
    model.add(BOB)  # the list is rebuilt; Alice stays selected, the edit stays
    assert panel.current_caller() == ALICE
    assert identity.text() == "alice-desk"
    model.remove(ALICE.call_sid)  # Alice hangs up: Bob is next, with his own identity
    assert panel.current_caller() == BOB
    assert identity.text() == "bob"


def test_the_identity_for_a_dragged_caller(qtbot, panel, model):
    model.add(ALICE)
    model.add(BOB)
    identity = by_name(panel, "Waiting identity", QLineEdit)
    identity.setText("  alice-desk ")
    assert panel.identity_for("CA1") == "alice-desk"  # selected: what the operator typed
    assert panel.identity_for("CA2") == "bob"  # not selected: the suggestion
    identity.setText("bad\x07name")
    assert panel.identity_for("CA1") == "alice"  # a typed identity Twilio would refuse
    assert panel.identity_for("CA404") == ""


def test_bad_room_or_identity_blocks_put_in_room(qtbot, panel, model):
    model.add(ALICE)
    button = by_name(panel, "Put in room")
    error = by_name(panel, "Waiting error", QLabel)
    panel.set_room("R" * 129)
    assert not button.isEnabled()
    assert "longer than 128" in error.text() and error.isVisible()
    panel.set_room("Support")
    by_name(panel, "Waiting identity", QLineEdit).setText("bad\x07name")
    assert not button.isEnabled() and "control character" in error.text()
    by_name(panel, "Waiting identity", QLineEdit).setText("")  # Twilio assigns one
    assert button.isEnabled() and not error.isVisible()


def test_a_caller_being_connected_cannot_be_sent_twice(qtbot, panel, model):
    requests: list[list] = []

    def connect(call_sid: str, room: str, identity: str) -> None:  # as the controller does
        requests.append([call_sid, room, identity])
        model.set_pending(call_sid, True)

    panel.put_in_room_requested.connect(connect)
    model.add(ALICE)
    panel.set_room("Support")
    button = by_name(panel, "Put in room")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert requests == [["CA1", "Support", "alice"]]
    assert not button.isEnabled()
    assert model.index(0, 1).data() == "connecting…"
    assert "connecting…" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)

    model.set_pending("CA1", False)  # the redirect failed: the operator may try again
    panel.show_error("Could not put +14155550100 in Support: Call is not in-progress")
    assert button.isEnabled()
    assert "not in-progress" in by_name(panel, "Waiting error", QLabel).text()
    model.remove("CA1")
    assert not model.is_pending("CA1")


# -- drag and drop ---------------------------------------------------------------------------


@pytest.fixture
def rooms_panel(qtbot) -> RoomsPanel:
    rooms = RoomsModel(clock=lambda: NOW)
    rooms.set_records(
        [
            Room("RM1", "DailyStandup", "in-progress", "group", NOW, 50, 2),
            Room("RM2", "Support", "in-progress", "group", NOW, 50, 0),
        ]
    )
    widget = RoomsPanel(rooms, ParticipantsModel())
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def dragged_rows(panel: WaitingPanel) -> QMimeData:
    """What the Waiting view hands to QDrag for its selection (QAbstractItemView.startDrag)."""
    indexes = panel.view.selectionModel().selectedIndexes()
    draggable = [i for i in indexes if i.flags() & Qt.ItemFlag.ItemIsDragEnabled]
    return panel.view.model().mimeData(draggable)


def drag_to(view, data: QMimeData, point: QPoint) -> tuple[bool, bool, bool]:
    """Enter, move over and drop on the view's viewport at point; whether each was accepted."""
    actions, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, actions, data, buttons, modifiers)
    move = QDragMoveEvent(point, actions, data, buttons, modifiers)
    drop = QDropEvent(QPointF(point), actions, data, buttons, modifiers)
    results = []
    for event in (enter, move, drop):
        event.setAccepted(False)
        QApplication.sendEvent(view.viewport(), event)
        results.append(event.isAccepted())
    return results[0], results[1], results[2]


def test_drag_a_caller_onto_a_room(qtbot, panel, model, rooms_panel):
    model.add(ALICE)
    model.add(BOB)
    panel.select_caller("CA2")
    assert panel.view.dragEnabled()
    assert panel.view.dragDropMode() == QAbstractItemView.DragDropMode.DragOnly
    data = dragged_rows(panel)
    assert data.formats() == [CALL_SID_MIME]
    assert call_sid_of(data) == "CA2"

    view = rooms_panel.rooms_view
    assert view.viewport().acceptDrops()  # where the window system delivers a real drag
    support = view.visualRect(view.model().index(1, 0)).center()
    with qtbot.waitSignal(rooms_panel.caller_dropped, timeout=1000) as dropped:
        accepted = drag_to(view, data, support)
    assert accepted == (True, True, True)
    call_sid, room = dropped.args
    assert (call_sid, room.sid, room.unique_name) == ("CA2", "RM2", "Support")


def test_a_drop_beside_the_rooms_or_of_something_else_does_nothing(qtbot, model, rooms_panel):
    model.add(ALICE)
    view = rooms_panel.rooms_view
    below_rows = QPoint(10, view.viewport().height() - 5)
    assert not view.indexAt(below_rows).isValid()
    dropped: list = []
    rooms_panel.caller_dropped.connect(lambda sid, room: dropped.append(sid))
    data = model.mimeData([model.index(0, 0)])
    assert drag_to(view, data, below_rows) == (True, False, False)

    text = QMimeData()
    text.setText("CA1")
    on_room = view.visualRect(view.model().index(0, 0)).center()
    assert drag_to(view, text, on_room) == (False, False, False)
    assert dropped == []
    assert rooms_panel.current_room() is None  # dragging never changed the selection


# -- a team's line -------------------------------------------------------------------------------


def test_in_a_team_the_table_says_who_is_handling_each_caller(qtbot, qtmodeltester, panel, model):
    model.add(ALICE)
    model.add(BOB)
    with qtbot.waitSignal(model.columnsInserted, timeout=1000):
        model.set_operator("grace")
    assert model.headerData(HANDLER_COLUMN, Qt.Orientation.Horizontal) == "Handled by"
    model.set_claim("CA1", "ada")
    model.set_claim("CA2", "grace")
    assert [model.index(row, HANDLER_COLUMN).data() for row in (0, 1)] == [
        "ada is handling this",
        "you",
    ]
    grey = model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert grey is not None and model.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "ada is handling this, so you cannot take it" in model.index(0, 0).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert (model.held_by_other("CA1"), model.held_by_other("CA2")) == ("ada", "")
    assert model.held_by_me() == ["CA2"]
    qtmodeltester.check(model)

    panel.set_room("Support")
    panel.select_caller("CA1")
    button, error = by_name(panel, "Put in room"), by_name(panel, "Waiting error", QLabel)
    assert not button.isEnabled() and error.text() == "ada is handling this caller"
    model.set_claim("CA1", "")  # ada gave the caller back
    assert button.isEnabled() and not error.isVisible()
    assert model.index(0, HANDLER_COLUMN).data() == ""


def test_working_alone_the_table_has_no_handled_by_column(model):
    model.add(ALICE)
    model.set_operator("")
    assert model.columnCount() == 3 and not model.team
    assert model.held_by_me() == []


def test_a_team_console_selects_first_the_longest_waiting_caller_it_can_take(panel, model):
    model.set_operator("grace")
    model.set_line([ALICE, BOB], {"CA1": "ada"})
    assert panel.current_caller() == BOB


def test_the_teams_list_gives_way_to_events_that_came_while_it_was_read(model):
    carol = WaitingCaller("CA3", "+14155550101", "+15005550006", NOW - timedelta(seconds=5))
    model.set_operator("grace")
    model.add(ALICE)
    model.add(BOB)
    before = {"CA1", "CA2"}
    # While the list was read: Bob was placed, Carol arrived, and ada claimed Alice.
    model.remove("CA2")
    model.add(carol)
    model.set_claim("CA1", "ada")
    model.set_line([ALICE, BOB], {}, before, {"CA1"})
    assert [w.call_sid for w in model.records()] == ["CA1", "CA3"]
    assert model.holder("CA1") == "ada"
    # A later list is the truth again: Alice is nobody's, Carol left.
    model.set_line([ALICE], {}, {"CA1", "CA3"})
    assert [w.call_sid for w in model.records()] == ["CA1"] and model.holder("CA1") == ""


def test_a_caller_who_came_and_went_while_the_list_was_read_stays_gone(model):
    dan = WaitingCaller("CA4", "+14155550102", "+15005550006", NOW - timedelta(seconds=3))
    model.set_operator("grace")
    model.add(ALICE)
    before = {"CA1"}
    # The list was read while Dan waited; by the time it came back, Dan had been placed.
    model.add(dan)
    model.remove("CA4")
    model.set_line([ALICE, dan], {"CA4": "ada"}, before)
    assert [w.call_sid for w in model.records()] == ["CA1"]
    assert model.holder("CA4") == ""
    # Should Dan wait again (sent back to hold), he is listed again.
    model.add(dan)
    model.set_line([ALICE, dan], {}, {"CA1", "CA4"})
    assert [w.call_sid for w in model.records()] == ["CA1", "CA4"]


def test_a_caller_coming_or_going_moves_only_their_own_row(qtbot, model):
    """The table is not rebuilt for one caller: other rows, and what is selected, stay put."""
    model.add(BOB)
    resets = []
    model.modelReset.connect(lambda: resets.append(True))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.add(ALICE)  # waited longer: goes above Bob
    assert inserted.args[1:] == [0, 0]
    newest = WaitingCaller("CA3", "+14155550111", "+15005550006", NOW, "carol")
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.add(newest)
    assert inserted.args[1:] == [2, 2]
    assert [w.call_sid for w in model.records()] == ["CA1", "CA2", "CA3"]
    with qtbot.waitSignal(model.dataChanged):
        model.add(BOB)  # the same call again: its row in place
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        assert model.remove("CA2") is True
    assert removed.args[1:] == [1, 1]
    assert [w.call_sid for w in model.records()] == ["CA1", "CA3"]
    assert resets == []
