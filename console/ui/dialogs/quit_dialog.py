"""Asks before quitting while callers wait or calls are live: where the waiting callers go."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.dial_input import room_problem

PLACE, GOODBYE, QUIT = "place", "goodbye", "quit"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def stakes_text(waiting: int, ringing: int, connected: int, sandbox: bool) -> str:
    """What quitting now would do to the calls, in words."""
    parts = []
    if waiting:
        parts.append(
            f"<b>{_plural(waiting, 'caller is', 'callers are')} waiting.</b> Their hold music "
            "comes from this console's webhook: once it stops, they hear an application error."
        )
    if ringing:
        parts.append(
            f"{_plural(ringing, 'call is', 'calls are')} still ringing; answering needs this "
            "webhook, so Switchboard cancels them."
        )
    if connected:
        fate = (
            "end with the sandbox"
            if sandbox
            else "stay connected in their rooms (Twilio keeps them)"
        )
        parts.append(f"{_plural(connected, 'call is', 'calls are')} connected; they {fate}.")
    return "<p>" + "</p><p>".join(parts) + "</p>"


class QuitDialog(QDialog):
    """Put the waiting callers in a room, or play them a goodbye, or stay: Cancel is the default.

    choice() says what the operator picked: PLACE (room()), GOODBYE, or QUIT when nobody waits.
    """

    def __init__(
        self,
        waiting: int,
        ringing: int,
        connected: int,
        rooms: Sequence[str],
        room: str,
        sandbox: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Quit Switchboard?")
        self.setAccessibleName("Quit Switchboard?")
        self.setMinimumWidth(480)
        self._choice = ""
        self.summary = QLabel(
            stakes_text(waiting, ringing, connected, sandbox),
            wordWrap=True,
            accessibleName="Quit summary",
        )
        self.room = QComboBox(editable=True, accessibleName="Room for waiting callers")
        self.room.addItems(sorted(set(rooms), key=lambda name: (name.casefold(), name)))
        self.room.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.room.lineEdit().setPlaceholderText("Room name")
        self.room.setEditText(room)
        self.room.setToolTip("An in-progress room, or a new name (created as a group room)")
        self.error = QLabel(wordWrap=True, accessibleName="Quit room error")
        self.error.setStyleSheet("color: #b3261e;")
        buttons = QDialogButtonBox()
        self.place_button = self._button(buttons, "&Put them in the room and quit", PLACE)
        self.goodbye_button = self._button(buttons, "Say &goodbye, hang up and quit", GOODBYE)
        self.quit_button = self._button(buttons, "&Quit", QUIT)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        if waiting:
            row = QHBoxLayout()
            label = QLabel("&Room")
            label.setBuddy(self.room)
            row.addWidget(label)
            row.addWidget(self.room, 1)
            layout.addLayout(row)
            layout.addWidget(self.error)
        layout.addWidget(buttons)
        for button in (self.place_button, self.goodbye_button):
            button.setVisible(bool(waiting))
        self.quit_button.setVisible(not waiting)
        self.room.editTextChanged.connect(self.on_room_edit_text_changed)
        self.on_room_edit_text_changed(room)

    def _button(self, box: QDialogButtonBox, text: str, choice: str) -> QPushButton:
        button = box.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
        button.setAccessibleName(text.replace("&", ""))
        button.setAutoDefault(False)
        button.clicked.connect(lambda: self._choose(choice))
        return button

    def _choose(self, choice: str) -> None:
        self._choice = choice
        self.accept()

    def choice(self) -> str:
        """PLACE, GOODBYE or QUIT once accepted; '' when cancelled."""
        return self._choice if self.result() == QDialog.DialogCode.Accepted else ""

    def room_name(self) -> str:
        """The room the waiting callers go to."""
        return self.room.currentText().strip()

    @Slot(str)
    def on_room_edit_text_changed(self, text: str) -> None:
        message = room_problem(text, "Name a room for the waiting callers.")
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.place_button.setEnabled(not message)
        if message:
            self.place_button.setToolTip(message)
        else:
            self.place_button.setToolTip(f"Connect every waiting caller to {escape(text)}")
