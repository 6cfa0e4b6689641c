"""The rooms area: in-progress rooms, the selected room's participants, and their actions."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.core.records import Participant, Room
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.ui.rooms_view import RoomsView
from console.ui.table_view import RecordTableView


def _titled(title: str, body: QWidget, *buttons: QPushButton) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    heading = QLabel(f"<b>{title}</b>")
    layout.addWidget(heading)
    layout.addWidget(body, 1)
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    layout.addLayout(row)
    box.heading = heading  # type: ignore[attr-defined]
    return box


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    return button


class RoomsPanel(QWidget):
    """Rooms on top, people of the selected room below; emits what the operator asked for."""

    room_selected = Signal(object)  # Room or None
    new_room_requested = Signal()
    end_room_requested = Signal(object)  # Room
    disconnect_requested = Signal(object)  # Participant
    move_requested = Signal(object)  # Participant whose call the console connected
    caller_dropped = Signal(str, object)  # call_sid of a waiting caller, the Room it was dropped on

    def __init__(
        self, rooms: RoomsModel, participants: ParticipantsModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.rooms_view = RoomsView(rooms)
        self.participants_view = RecordTableView(participants, "Participants")
        self.new_button = _button("&New room…", "New room", "Create a group room (Ctrl+N)")
        self.end_button = _button("&End room", "End room", "End the selected room")
        self.disconnect_button = _button(
            "D&isconnect", "Disconnect", "Disconnect the selected participant"
        )
        self.move_button = _button(
            "&Move…", "Move", "Move the selected phone or SIP participant to another room"
        )
        self.rooms_box = _titled("Rooms", self.rooms_view, self.new_button, self.end_button)
        self.people_box = _titled(
            "Participants", self.participants_view, self.disconnect_button, self.move_button
        )
        self.empty_hint = QLabel("No rooms in progress. Dial into a new room name to create one.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("color: palette(mid);")
        self.rooms_box.layout().insertWidget(2, self.empty_hint)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.rooms_box)
        splitter.addWidget(self.people_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._connect_signals()
        self._update_buttons()

    def _connect_signals(self) -> None:
        self.rooms_view.caller_dropped.connect(self.caller_dropped)
        self.rooms_view.selectionModel().selectionChanged.connect(self.on_rooms_selection_changed)
        self.participants_view.selectionModel().selectionChanged.connect(
            self.on_participants_selection_changed
        )
        rooms = self.rooms_view.model()
        rooms.modelReset.connect(self.on_rooms_reset)
        rooms.dataChanged.connect(self.on_rooms_changed)
        participants = self.participants_view.model()
        participants.modelReset.connect(self.on_participants_reset)
        participants.dataChanged.connect(self.on_participants_changed)
        self.new_button.clicked.connect(self.new_room_requested)
        self.end_button.clicked.connect(self.on_end_clicked)
        self.disconnect_button.clicked.connect(self.on_disconnect_clicked)
        self.move_button.clicked.connect(self.on_move_clicked)

    def current_room(self) -> Room | None:
        """The selected room."""
        return self.rooms_view.current_record()  # type: ignore[return-value]

    def current_participant(self) -> Participant | None:
        """The selected participant."""
        return self.participants_view.current_record()  # type: ignore[return-value]

    def select_room_named(self, name: str) -> bool:
        """Select the room with this unique name; False when it is not listed."""
        model: RoomsModel = self.rooms_view.model()  # type: ignore[assignment]
        for row, room in enumerate(model.records()):
            if room.unique_name == name:
                self.rooms_view.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        room = self.current_room()
        self.end_button.setEnabled(room is not None)
        participant = self.current_participant()
        self.disconnect_button.setEnabled(participant is not None)
        self.move_button.setEnabled(participant is not None and bool(participant.call_sid))
        self.empty_hint.setVisible(self.rooms_view.model().rowCount() == 0)
        title = f"Participants of {room.unique_name}" if room else "Participants"
        self.people_box.heading.setText(f"<b>{title}</b>")  # type: ignore[attr-defined]

    @Slot(QItemSelection, QItemSelection)
    def on_rooms_selection_changed(self, selected: QItemSelection, _: QItemSelection) -> None:
        self._update_buttons()
        self.room_selected.emit(self.current_room())

    @Slot(QItemSelection, QItemSelection)
    def on_participants_selection_changed(self, *_: QItemSelection) -> None:
        self._update_buttons()

    @Slot()
    def on_rooms_reset(self) -> None:
        self._update_buttons()
        self.room_selected.emit(self.current_room())

    @Slot()
    def on_rooms_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def on_participants_reset(self) -> None:
        self._update_buttons()

    @Slot()
    def on_participants_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def on_end_clicked(self) -> None:
        room = self.current_room()
        if room is not None:
            self.end_room_requested.emit(room)

    @Slot()
    def on_disconnect_clicked(self) -> None:
        participant = self.current_participant()
        if participant is not None:
            self.disconnect_requested.emit(participant)

    @Slot()
    def on_move_clicked(self) -> None:
        participant = self.current_participant()
        if participant is not None and participant.call_sid:
            self.move_requested.emit(participant)
