"""The rooms area: a filter, in-progress rooms, the selected room's participants, their actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.records import Participant, Room
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.ui.rooms_view import RoomsView
from console.ui.table_view import RecordTableView


def _titled(
    title: str, body: QWidget, *buttons: QPushButton, beside: QWidget | None = None
) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    heading = QLabel(f"<b>{title}</b>")
    top = QHBoxLayout()
    top.addWidget(heading)
    if beside is not None:
        top.addWidget(beside, 1)
    layout.addLayout(top)
    layout.addWidget(body, 1)
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    layout.addLayout(row)
    box.heading = heading  # type: ignore[attr-defined]
    return box


def matches(wanted: str, names: Iterable[str]) -> bool:
    """Whether any name holds the filter text; a number matches by its digits alone."""
    wanted = wanted.strip().casefold()
    digits = "".join(ch for ch in wanted if ch.isdigit())
    numberish = digits and all(ch.isdigit() or ch in "+-() ." for ch in wanted)
    for name in names:
        if not name:
            continue
        if wanted in name.casefold():
            return True
        if numberish and digits in "".join(ch for ch in name if ch.isdigit()):
            return True
    return False


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
    move_to_requested = Signal(object, object)  # that Participant, dragged onto this Room
    caller_dropped = Signal(str, object)  # call_sid of a waiting caller, the Room it was dropped on
    dial_into_requested = Signal(object)  # Room the operator wants the dial pad to dial into
    mute_requested = Signal(object, bool)  # Participant, True to mute or False to unmute
    record_requested = Signal(object, bool)  # Room, True to record or False to stop

    def __init__(
        self, rooms: RoomsModel, participants: ParticipantsModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.people_in: Callable[[str], Iterable[str]] = lambda room: ()  # names and numbers
        self.rooms_view = RoomsView(rooms)
        self.participants_view = RecordTableView(participants, "Participants")
        self.participants_view.setDragEnabled(True)  # onto a room: moves the participant there
        self.participants_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.participants_view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.filter = QLineEdit(accessibleName="Filter rooms and people", clearButtonEnabled=True)
        self.filter.setPlaceholderText("Filter rooms, people, numbers (Ctrl+F)")
        self.filter.setToolTip("Rooms by name, people by identity or number")
        self.new_button = _button("&New room…", "New room", "Create a group room (Ctrl+N)")
        self.end_button = _button("&End room", "End room", "End the selected room (Ctrl+Shift+E)")
        self.dial_into_button = _button(
            "Dial &into",
            "Dial into this room",
            "Make the selected room the dial pad's room (Ctrl+J, or double-click the room)",
        )
        self.disconnect_button = _button(
            "D&isconnect", "Disconnect", "Disconnect the selected participant (Ctrl+Shift+X)"
        )
        self.move_button = _button(
            "&Move…",
            "Move",
            "Move the selected phone or SIP participant to another room (Ctrl+M, or drag it "
            "onto a room)",
        )
        self.mute_button = _button(
            "M&ute",
            "Mute",
            "Mute the selected participant for everyone else in the room, or unmute them "
            "(Ctrl+Shift+M)",
        )
        self.record_button = _button(
            "Rec&ord",
            "Record",
            "Record every track of the selected room, or stop recording it (Ctrl+Shift+C)",
        )
        self.rooms_box = _titled(
            "Rooms",
            self.rooms_view,
            self.new_button,
            self.dial_into_button,
            self.record_button,
            self.end_button,
            beside=self.filter,
        )
        self.people_box = _titled(
            "Participants",
            self.participants_view,
            self.disconnect_button,
            self.move_button,
            self.mute_button,
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
        self.rooms_view.participant_dropped.connect(self.on_rooms_view_participant_dropped)
        self.rooms_view.doubleClicked.connect(self.on_dial_into_clicked)
        self.filter.textChanged.connect(self.on_filter_text_changed)
        self.dial_into_button.clicked.connect(self.on_dial_into_clicked)
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
        for model in (rooms, participants):
            model.rowsInserted.connect(self.apply_filter)
        self.new_button.clicked.connect(self.new_room_requested)
        self.end_button.clicked.connect(self.on_end_clicked)
        self.disconnect_button.clicked.connect(self.on_disconnect_clicked)
        self.move_button.clicked.connect(self.on_move_clicked)
        self.mute_button.clicked.connect(self.on_mute_clicked)
        self.record_button.clicked.connect(self.on_record_clicked)

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

    def focus_filter(self) -> None:
        """Put the keyboard in the filter box, its text selected."""
        self.filter.setFocus()
        self.filter.selectAll()

    @Slot()
    def apply_filter(self) -> None:
        """Hide the rooms and people that do not match the filter text."""
        text = self.filter.text().strip().casefold()
        rooms: RoomsModel = self.rooms_view.model()  # type: ignore[assignment]
        for row, room in enumerate(rooms.records()):
            names = [room.unique_name, *self.people_in(room.unique_name)]
            self.rooms_view.setRowHidden(row, bool(text) and not matches(text, names))
        room = self.current_room()
        room_matches = room is not None and matches(text, [room.unique_name])
        people: ParticipantsModel = self.participants_view.model()  # type: ignore[assignment]
        for row, person in enumerate(people.records()):
            names = (person.identity, people.number(person), people.number_text(person))
            shown = not text or room_matches or matches(text, names)
            self.participants_view.setRowHidden(row, not shown)

    def _update_buttons(self) -> None:
        room = self.current_room()
        self.end_button.setEnabled(room is not None)
        self.dial_into_button.setEnabled(room is not None)
        participant = self.current_participant()
        self.disconnect_button.setEnabled(participant is not None)
        self.move_button.setEnabled(participant is not None and bool(participant.call_sid))
        self.mute_button.setEnabled(participant is not None)
        self.mute_button.setText("Unm&ute" if participant and participant.muted else "M&ute")
        self.record_button.setEnabled(room is not None)
        self.record_button.setText("Stop rec&ording" if room and room.recording else "Rec&ord")
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
        self.apply_filter()
        self.room_selected.emit(self.current_room())

    @Slot(str)
    def on_filter_text_changed(self, _: str) -> None:
        self.apply_filter()

    @Slot(str, object)
    def on_rooms_view_participant_dropped(self, participant_sid: str, room: Room) -> None:
        people: ParticipantsModel = self.participants_view.model()  # type: ignore[assignment]
        person = people.record_at(people.row_of(participant_sid))
        here = self.current_room()
        if person is not None and person.call_sid and (here is None or here.sid != room.sid):
            self.move_to_requested.emit(person, room)

    @Slot()
    def on_dial_into_clicked(self) -> None:
        room = self.current_room()
        if room is not None:
            self.dial_into_requested.emit(room)

    @Slot()
    def on_rooms_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def on_participants_reset(self) -> None:
        self._update_buttons()
        self.apply_filter()

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

    @Slot()
    def on_mute_clicked(self) -> None:
        participant = self.current_participant()
        if participant is not None:
            self.mute_requested.emit(participant, not participant.muted)

    @Slot()
    def on_record_clicked(self) -> None:
        room = self.current_room()
        if room is not None:
            self.record_requested.emit(room, not room.recording)
