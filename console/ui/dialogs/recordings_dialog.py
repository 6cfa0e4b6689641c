"""A room's recordings: each recorded track with its kind, duration and size."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from console.core.calls.records import Recording, Room
from console.models.recordings_model import RecordingsModel, format_size
from console.room_desk import RoomDesk
from console.ui.table_view import RecordTableView


class RecordingsDialog(QDialog):
    """Lists one room's recordings, and lists them again as recordings start and complete."""

    def __init__(self, room: Room, desk: RoomDesk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.room, self.desk = room, desk
        self.setWindowTitle(f"Recordings of {room.unique_name}")
        self.setObjectName("recordings")
        self.resize(620, 320)
        self.model = RecordingsModel(self)
        self.view = RecordTableView(self.model, "Recordings")
        self.summary = QLabel(wordWrap=True, accessibleName="Recordings summary")
        self.summary.setText("Loading…")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.refresh_button = self.buttons.addButton(
            "&Refresh", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.refresh_button.setAccessibleName("Refresh recordings")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.buttons)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.desk.recordings_loaded.connect(self.on_desk_recordings_loaded)
        self.desk.recordings_changed.connect(self.on_desk_recordings_changed)
        self.refresh_button.clicked.connect(self.reload)
        self.buttons.rejected.connect(self.reject)

    @Slot()
    def reload(self) -> None:
        """Ask Twilio for the room's recordings again."""
        self.desk.load_recordings(self.room)

    @Slot(str, list)
    def on_desk_recordings_loaded(self, room_sid: str, recordings: list[Recording]) -> None:
        if room_sid != self.room.sid:
            return
        self.model.set_records(recordings)
        name = escape(self.room.unique_name)
        if not recordings:
            self.summary.setText(
                f"No recordings of <b>{name}</b> yet: <i>Record room</i> (Ctrl+Shift+C) records "
                "every track from then on."
            )
            return
        live = sum(r.recording for r in recordings)
        size = format_size(sum(r.size for r in recordings))
        now = f"{live} still recording; " if live else ""
        self.summary.setText(
            f"<b>{name}</b>: {len(recordings)} recording(s), {now}{size} finished in all."
        )

    @Slot(str)
    def on_desk_recordings_changed(self, room_sid: str) -> None:
        if room_sid == self.room.sid:
            self.reload()
