"""Sandbox mode: asks who calls which of the sandbox's numbers (and what they type)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from console.core.calls.dial_input import InvalidInput, caller_id_label, normalize_destination
from console.core.calls.records import PhoneNumber

DEFAULT_CALLER = "+1 415 555 0100"
_DIGITS = set("0123456789*#w")


class SimulateCallDialog(QDialog):
    """A caller's number, the number they call, optional digits; Ring places the call."""

    def __init__(
        self, numbers: Sequence[PhoneNumber], region: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Simulate incoming call")
        self.setMinimumWidth(460)
        self._region = region
        intro = QLabel(
            "The sandbox rings the chosen number as a caller would. It rings this console's "
            "webhook, which answers by <i>routes.toml</i> (Calls ▸ Incoming call routes), so "
            "routes, meeting codes and the Waiting list can be practised.",
            wordWrap=True,
        )
        self.caller = QLineEdit(DEFAULT_CALLER, accessibleName="Caller's number")
        self.caller.setPlaceholderText("+1 415 555 0100 or sip:…")
        self.number = QComboBox(accessibleName="Number called")
        for line in numbers:
            self.number.addItem(caller_id_label(line.number, line.friendly_name), line.number)
        self.digits = QLineEdit(accessibleName="Digits")
        self.digits.setPlaceholderText("optional, e.g. 4242# for a meeting code")
        self.error = QLabel(wordWrap=True, accessibleName="Simulate error")
        self.error.setStyleSheet("color: #b3261e;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ring_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ring_button.setText("&Ring")
        self.ring_button.setAccessibleName("Ring")
        form = QFormLayout(self)
        form.addRow(intro)
        for text, widget in (
            ("&Caller", self.caller),
            ("&Calls", self.number),
            ("&Digits", self.digits),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        form.addRow(self.error)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for field in (self.caller, self.digits):
            field.textChanged.connect(self.on_field_edited)
        self.on_field_edited()

    def problem(self) -> str:
        """What keeps the call from being placed, or ''."""
        if self.number.count() == 0:
            return "The sandbox's numbers have not loaded yet."
        try:
            normalize_destination(self.caller.text(), self._region)
        except InvalidInput as error:
            return error.message
        if set(self.digits.text().strip()) - _DIGITS:
            return "Digits are 0-9, * and # (w waits half a second)."
        return ""

    def caller_number(self) -> str:
        """The caller's number in E.164 (or the sip: address)."""
        return normalize_destination(self.caller.text(), self._region)

    def called_number(self) -> str:
        """Which of the sandbox's numbers is called."""
        return self.number.currentData() or ""

    def digits_text(self) -> str:
        """The digits the caller types once the call is answered."""
        return self.digits.text().strip()

    @Slot()
    def on_field_edited(self) -> None:
        problem = self.problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.ring_button.setEnabled(not problem)

    def accept(self) -> None:
        """Only a call that can be placed closes the dialog."""
        if not self.problem():
            super().accept()
