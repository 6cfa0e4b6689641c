"""Asks for a new room's name and, optionally, its maximum number of participants."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from console.core.calls.dial_input import InvalidInput, check_room

MAX_PARTICIPANTS = 50


class NewRoomDialog(QDialog):
    """A group room's unique name and participant limit (0 means Twilio's default of 50)."""

    def __init__(self, taken: set[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New room")
        self.setMinimumWidth(440)
        self._taken = taken or set()
        self.name = QLineEdit()
        self.name.setAccessibleName("Room name")
        self.name.setPlaceholderText("e.g. DailyStandup")
        self.name.setMinimumWidth(self.name.fontMetrics().horizontalAdvance("n" * 32))
        self.limit = QSpinBox()
        self.limit.setAccessibleName("Maximum participants")
        self.limit.setRange(0, MAX_PARTICIPANTS)
        self.limit.setSpecialValueText("Default (50)")
        self.error = QLabel(wordWrap=True)
        self.error.setAccessibleName("Room name error")
        self.error.setStyleSheet("color: #c0392b;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        form = QFormLayout(self)
        hint = QLabel(
            "A group room: phones, SIP and video apps can join it. The name is how the dial "
            "pad and callers' routes find it (at most 128 characters).",
            wordWrap=True,
        )
        hint.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(hint)
        form.addRow("&Name", self.name)
        form.addRow("&Max participants", self.limit)
        form.addRow(self.error)
        form.addRow(self.buttons)
        self.name.textChanged.connect(self.on_name_text_changed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.on_name_text_changed("")

    def room_name(self) -> str:
        """The name as entered, trimmed."""
        return self.name.text().strip()

    @Slot(str)
    def on_name_text_changed(self, text: str) -> None:
        message = ""
        try:
            name = check_room(text)
        except InvalidInput as error:
            message = error.message if text else ""
            name = ""
        if name and name in self._taken:
            message = f"A room named {name} is already in progress."
        self.error.setText(message)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            bool(name) and not message
        )
