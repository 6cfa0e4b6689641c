"""Asks where to move a phone or SIP participant; the call keeps its identity."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from console.core.calls.dial_input import InvalidInput, check_room
from console.core.calls.records import Participant

_ERROR_STYLE = "color: #b3261e;"


class MoveDialog(QDialog):
    """Chooses a destination room for a participant whose call the console connected."""

    def __init__(
        self,
        participant: Participant,
        current_room: str,
        rooms: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Move participant")
        self.setMinimumWidth(420)
        self.participant, self.current_room = participant, current_room
        who = escape(participant.identity)
        kind = f" ({escape(participant.kind)})" if participant.kind else ""
        self.summary = QLabel(
            f"Move <b>{who}</b>{kind} out of <b>{escape(current_room)}</b>. "
            f"The call stays up and keeps the identity {who}.",
            wordWrap=True,
            accessibleName="Move summary",
        )
        self.room = QComboBox(editable=True, accessibleName="Destination room")
        others = sorted(set(rooms) - {current_room}, key=lambda name: (name.casefold(), name))
        self.room.addItems(others)
        self.room.lineEdit().setPlaceholderText("Room name")
        self.room.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.room.setMinimumContentsLength(24)
        self.room.setToolTip("An in-progress room, or a new name")
        self.error = QLabel(wordWrap=True, accessibleName="Destination room error")
        self.error.setStyleSheet(_ERROR_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Move")
        self.ok_button.setAccessibleName("Move")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        form = QFormLayout(self)
        form.addRow(self.summary)
        form.addRow("&To room", self.room)
        form.addRow(self.error)
        form.addRow(self.buttons)
        self._connect_signals()
        self.on_room_text_changed(self.room.currentText())

    def _connect_signals(self) -> None:
        self.room.editTextChanged.connect(self.on_room_text_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def destination(self) -> str:
        """The room chosen, trimmed."""
        return self.room.currentText().strip()

    def _problem(self, text: str) -> str:
        if not text.strip():
            return ""
        try:
            name = check_room(text)
        except InvalidInput as error:
            return error.message
        if name == self.current_room:
            return f"{self.participant.identity} is already in {name}."
        return ""

    @Slot(str)
    def on_room_text_changed(self, text: str) -> None:
        problem = self._problem(text)
        self.error.setText(problem)  # always in the layout, so the dialog never jumps
        self.ok_button.setEnabled(bool(text.strip()) and not problem)

    def accept(self) -> None:
        """Close with a destination, only when it is a valid room other than the current one."""
        if self.ok_button.isEnabled():
            super().accept()
