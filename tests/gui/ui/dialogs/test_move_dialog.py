"""Moving a phone participant: the Move… button of the rooms panel, and the Move dialog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QPushButton

from console.core.calls.records import Participant, Room
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.ui.dialogs.move_dialog import MoveDialog
from console.ui.rooms_panel import RoomsPanel
from tests.helpers.widgets import by_name

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
ALICE = Participant(
    "PA1", "RM1", "alice", "connected", "phone", NOW, call_sid="CA1", call_status="in-progress"
)
VIDEO = Participant("PA2", "RM1", "carol", "connected", "", NOW)  # not a call the console placed


@pytest.fixture
def dialog(qtbot) -> MoveDialog:
    widget = MoveDialog(ALICE, "DailyStandup", ["Support", "DailyStandup", "retro"])
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_offers_the_other_rooms_and_moves_to_the_chosen_one(qtbot, dialog):
    room = by_name(dialog, "Destination room", QComboBox)
    assert [room.itemText(i) for i in range(room.count())] == ["retro", "Support"]
    assert "alice" in by_name(dialog, "Move summary", QLabel).text()
    room.setCurrentIndex(room.findText("Support"))
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.mouseClick(by_name(dialog, "Move", QPushButton), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.destination() == "Support"


def test_a_new_room_name_can_be_typed(qtbot, dialog):
    room = by_name(dialog, "Destination room", QComboBox)
    room.lineEdit().clear()
    qtbot.keyClicks(room.lineEdit(), "  Overflow ")
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.keyClick(room.lineEdit(), Qt.Key.Key_Return)
    assert dialog.destination() == "Overflow"
    assert room.count() == 2  # typed names are not added to the list


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("DailyStandup", "already in DailyStandup"), ("R" * 129, "longer than 128"), ("", "")],
)
def test_the_same_room_or_a_bad_name_cannot_be_chosen(qtbot, dialog, typed, problem):
    room = by_name(dialog, "Destination room", QComboBox)
    room.setEditText(typed)
    move = by_name(dialog, "Move", QPushButton)
    assert not move.isEnabled()
    assert problem in by_name(dialog, "Destination room error", QLabel).text()
    qtbot.keyClick(room.lineEdit(), Qt.Key.Key_Return)
    assert dialog.isVisible()  # Enter does not accept it either


def test_cancel_moves_nobody(qtbot, dialog):
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.mouseClick(by_name(dialog, "Cancel", QPushButton), Qt.MouseButton.LeftButton)


@pytest.fixture
def rooms_panel(qtbot) -> RoomsPanel:
    rooms, people = RoomsModel(clock=lambda: NOW), ParticipantsModel()
    rooms.set_records([Room("RM1", "DailyStandup", "in-progress", "group", NOW, 50, 2)])
    widget = RoomsPanel(rooms, people)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.rooms_view.selectRow(0)
    people.set_records([ALICE, VIDEO])
    return widget


def test_move_is_offered_only_for_calls_the_console_connected(qtbot, rooms_panel):
    move = by_name(rooms_panel, "Move", QPushButton)
    assert move.text() == "&Move…"
    assert not move.isEnabled()  # nobody selected
    rooms_panel.participants_view.selectRow(1)
    assert not move.isEnabled()  # carol: no call of ours
    assert by_name(rooms_panel, "Disconnect", QPushButton).isEnabled()
    rooms_panel.participants_view.selectRow(0)
    assert move.isEnabled()
    with qtbot.waitSignal(rooms_panel.move_requested, timeout=1000) as requested:
        qtbot.mouseClick(move, Qt.MouseButton.LeftButton)
    assert requested.args == [ALICE]


def test_move_turns_on_when_the_call_becomes_known(rooms_panel):
    people: ParticipantsModel = rooms_panel.participants_view.model()  # type: ignore[assignment]
    rooms_panel.participants_view.selectRow(1)
    move = by_name(rooms_panel, "Move", QPushButton)
    assert not move.isEnabled()
    carol = Participant("PA2", "RM1", "carol", "connected", "sip", NOW, call_sid="CA2")
    people.set_records([ALICE, carol])  # same rows: updated in place, no reset
    assert move.isEnabled()
