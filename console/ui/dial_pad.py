"""The dial pad: number, caller ID, room and identity, checked as the operator types."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.dial_input import (
    DialRequest,
    InvalidInput,
    backspace,
    caller_id_label,
    cursor_after_format,
    find_errors,
    format_as_you_type,
    validate_request,
)
from console.core.calls.records import PhoneNumber

KEYS = "123456789*0#+"
FIELDS = ("number", "from", "room", "identity")
ERROR_COLOR = "#d93025"
DIAL_STYLE = (
    "QPushButton { background: #1e8e3e; color: white; font-weight: bold; border-radius: 6px; }"
    "QPushButton:focus { border: 2px solid #174ea6; }"
    "QPushButton:disabled { background: #dde3de; color: #5b665e; }"
)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_COMMAND_MODIFIERS = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def _enlarge(widget: QWidget, factor: float) -> None:
    font = widget.font()
    font.setPointSizeF(font.pointSizeF() * factor)
    widget.setFont(font)


class _CallerIdBox(QComboBox):
    """The From choice; it would search its items for typed digits, so the pad routes them."""

    def __init__(self, route_key: Callable[[QKeyEvent], bool]) -> None:
        super().__init__(accessibleName="From")
        self._route_key = route_key

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Digits, Backspace and Enter go to the pad's number; other keys work as usual."""
        if not self._route_key(event):
            super().keyPressEvent(event)


class DialPad(QWidget):
    """Where the operator types a number or sip: address and dials it into a room."""

    dial_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, region: str = "US") -> None:
        super().__init__(parent)
        self._region = region
        self._busy = False
        self._edited: set[str] = set()
        self._outside_error: InvalidInput | None = None
        self._shown: tuple[str, str] | None = None

        self._number = QLineEdit(accessibleName="Number")
        self._number.setPlaceholderText("+1 555 123 4567 or sip:…")
        _enlarge(self._number, 1.25)
        self._number.setMinimumHeight(self._number.sizeHint().height() + 6)
        self._backspace = self._make_key("⌫", "Backspace")
        self._backspace.setToolTip("Delete the digit before the cursor")
        self._backspace.setAutoRepeat(True)
        self._backspace.setFixedWidth(52)
        self._keys = QButtonGroup(self)
        for index, key in enumerate(KEYS):
            self._keys.addButton(self._make_key(key, f"Key {key}"), index)
        self._from = _CallerIdBox(self._route_key)
        self._from.setPlaceholderText("No caller ID numbers")
        self._room = QComboBox(accessibleName="Room", editable=True)
        self._room.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._room.lineEdit().setPlaceholderText("pick a room or type a new name")
        self._identity = QLineEdit(accessibleName="Identity")
        self._identity.setPlaceholderText("optional: Twilio assigns one")
        self._error = QLabel(accessibleName="Dial error", wordWrap=True)
        self._error.setStyleSheet(f"color: {ERROR_COLOR};")
        self._error.setMinimumHeight(self._error.fontMetrics().lineSpacing() * 2)
        self._error.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._dial = QPushButton("Dial", accessibleName="Dial", styleSheet=DIAL_STYLE)
        self._dial.setMinimumHeight(36)
        self._dial.setToolTip("Dial the number into the room as the identity (Ctrl+D or Enter)")

        self._lay_out()
        self._connect_signals()
        self._revalidate()

    def _make_key(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text, accessibleName=name, focusPolicy=Qt.FocusPolicy.NoFocus)
        button.setMinimumSize(52, 30)  # 40 high when there is room; less on a small screen
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        button.setMaximumHeight(44)
        button.setToolTip(f"Type {text} (or press {text} on the keyboard)")
        _enlarge(button, 1.3)
        return button

    def _lay_out(self) -> None:
        number_row = QHBoxLayout()
        number_row.addWidget(self._number, 1)
        number_row.addWidget(self._backspace)
        grid = QGridLayout()
        for index, button in enumerate(self._keys.buttons()):
            grid.addWidget(button, index // 3, index % 3 if index < 12 else 1)  # + under 0
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._labels = {f: QLabel(f"&{f.title()}") for f in FIELDS[1:]}  # red when invalid
        for field, widget in zip(FIELDS[1:], (self._from, self._room, self._identity), strict=True):
            self._labels[field].setBuddy(widget)
            form.addRow(self._labels[field], widget)
        layout = QVBoxLayout(self)
        layout.addLayout(number_row)
        layout.addLayout(grid)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self._error)
        layout.addWidget(self._dial)
        layout.addStretch(1)
        chain = [self._number, self._from, self._room, self._identity, self._dial]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

    def _connect_signals(self) -> None:
        self._number.textEdited.connect(self.on_number_text_edited)
        self._backspace.clicked.connect(self.on_backspace_clicked)
        self._keys.idClicked.connect(self.on_keys_id_clicked)
        self._from.currentIndexChanged.connect(self.on_from_current_index_changed)
        self._room.editTextChanged.connect(self.on_room_edit_text_changed)
        self._room.lineEdit().textEdited.connect(self.on_room_text_edited)
        self._identity.textEdited.connect(self.on_identity_text_edited)
        for field in (self._number, self._room.lineEdit(), self._identity):
            field.returnPressed.connect(self.dial)
        self._dial.clicked.connect(self.dial)

    def set_region(self, region: str) -> None:
        """Set the country national numbers belong to (ISO code like 'US') and reformat."""
        self._region = region
        self._put_number(self._number.text(), len(self._number.text()))
        self._revalidate()

    def set_numbers(self, numbers: Sequence[PhoneNumber]) -> None:
        """Offer these caller IDs under From, keeping the current choice when it is still there."""
        current = self._from.currentData()
        self._from.blockSignals(True)
        self._from.clear()
        for row, number in enumerate(numbers):
            self._from.addItem(caller_id_label(number.number, number.friendly_name), number.number)
            self._from.setItemData(row, number.friendly_name, Qt.ItemDataRole.ToolTipRole)
        index = self._from.findData(current) if current is not None else -1
        self._from.setCurrentIndex(index if index >= 0 else min(0, len(numbers) - 1))
        self._from.blockSignals(False)
        self._revalidate()

    def set_rooms(self, names: Sequence[str]) -> None:
        """Offer these rooms (sorted) under Room, keeping whatever the operator has typed."""
        text, cursor = self._room.currentText(), self._room.lineEdit().cursorPosition()
        self._room.blockSignals(True)
        self._room.clear()
        self._room.addItems(sorted(set(names), key=lambda name: (name.casefold(), name)))
        self._room.setCurrentIndex(self._room.findText(text))
        self._room.setEditText(text)
        self._room.lineEdit().setCursorPosition(cursor)
        self._room.blockSignals(False)

    def set_room(self, name: str) -> None:
        """Put this room name in the Room field, as if chosen."""
        self._room.setCurrentIndex(self._room.findText(name))
        self._room.setEditText(name)

    def choose_caller_id(self, number: str) -> bool:
        """Select this caller ID under From; False when the account does not have it."""
        index = self._from.findData(number)
        if index >= 0:
            self._from.setCurrentIndex(index)
        return index >= 0

    def focus_number(self) -> None:
        """Put the keyboard focus in the number field, its text selected for retyping."""
        self._number.setFocus()
        self._number.selectAll()

    def fill(self, number: str, room: str, identity: str) -> None:
        """Put a whole request in the fields (to dial someone again)."""
        self._put_number(number, len(number))
        self.set_room(room)
        self._identity.setText(identity)
        self._outside_error = None
        self._revalidate()

    def clear_after_dial(self) -> None:
        """The call is placed: empty Number and Identity, so Enter cannot dial it again.

        The room and the caller ID stay, for the next call into the same room.
        """
        self._number.clear()
        self._identity.clear()
        self._edited.clear()
        self._outside_error = None
        self._revalidate()

    def set_identity(self, text: str) -> None:
        """Put this identity in the Identity field."""
        self._identity.setText(text)
        self._revalidate()

    def set_busy(self, busy: bool) -> None:
        """Mark a dial request in flight (Dial disabled) or finished."""
        self._busy = busy
        self._dial.setText("Dialing…" if busy else "Dial")
        self._revalidate()

    def show_error(self, field: str, message: str) -> None:
        """Show an error found elsewhere (e.g. Twilio refused the number) on its field."""
        self._outside_error = InvalidInput(field, message)
        self._revalidate()

    def clear_error(self) -> None:
        """Forget the error given to show_error."""
        self._outside_error = None
        self._revalidate()

    def current_request(self) -> DialRequest | None:
        """The request the fields describe now, or None while something is invalid."""
        try:
            return validate_request(*self._values())
        except InvalidInput:
            return None

    @Slot()
    def dial(self) -> None:
        """Emit dial_requested once and go busy; with invalid input show the error instead."""
        if self._busy:
            return
        request = self.current_request()
        if request is None:
            self._edited.update(FIELDS)
            self._revalidate()
            return
        self.set_busy(True)
        self.dial_requested.emit(request)

    @Slot(str)
    def on_number_text_edited(self, text: str) -> None:
        self._put_number(text, self._number.cursorPosition())
        self._note_edit("number")

    @Slot(int)
    def on_keys_id_clicked(self, index: int) -> None:
        self._type_into_number(KEYS[index])

    @Slot()
    def on_backspace_clicked(self) -> None:
        if self._number.hasSelectedText():
            self._number.del_()  # emits textEdited
            return
        self._put_number(*backspace(self._number.text(), self._number.cursorPosition()))
        self._note_edit("number")

    @Slot(int)
    def on_from_current_index_changed(self, _index: int) -> None:
        self._revalidate()

    @Slot(str)
    def on_room_edit_text_changed(self, _text: str) -> None:
        self._revalidate()

    @Slot(str)
    def on_room_text_edited(self, _text: str) -> None:
        self._note_edit("room")

    @Slot(str)
    def on_identity_text_edited(self, _text: str) -> None:
        self._note_edit("identity")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keys the pad's buttons ignore (digits, Backspace, Enter) go to the number."""
        if not self._route_key(event):
            super().keyPressEvent(event)

    def _route_key(self, event: QKeyEvent) -> bool:
        if event.modifiers() & _COMMAND_MODIFIERS:
            return False
        if event.text() and event.text() in KEYS:
            self._type_into_number(event.text())
        elif event.key() == Qt.Key.Key_Backspace:
            self.on_backspace_clicked()
        elif event.key() in _ENTER_KEYS:
            self.dial()
        else:
            return False
        return True

    def _values(self) -> tuple[str, str, str, str, str]:
        number, room, identity = (
            self._number.text(),
            self._room.currentText(),
            self._identity.text(),
        )
        return number, self._from.currentData() or "", room, identity, self._region

    def _type_into_number(self, char: str) -> None:
        self._number.insert(char)  # replaces a selection; emits textEdited, which formats

    def _put_number(self, text: str, cursor: int) -> None:
        formatted = format_as_you_type(text, self._region)
        if formatted != text:
            cursor = cursor_after_format(text, cursor, formatted)
        if formatted != self._number.text():
            self._number.setText(formatted)
        self._number.setCursorPosition(cursor)

    def _note_edit(self, field: str) -> None:
        self._edited.add(field)
        if self._outside_error is not None and self._outside_error.field == field:
            self._outside_error = None
        self._revalidate()

    def _revalidate(self) -> None:
        errors = find_errors(*self._values())
        can_dial = not errors and not self._busy
        if self._dial.isEnabled() != can_dial:
            self._dial.setEnabled(can_dial)
        shown = self._outside_error
        if shown is None and self._edited:
            touched = [e for e in errors if e.field in self._edited or e.field == "from"]
            shown = touched[0] if touched else None
        key = (shown.field, shown.message) if shown else None
        if key == self._shown:
            return  # Qt calls only when something changed: keeps typing cheap
        self._shown = key
        self._error.setText(shown.message if shown else "")
        widgets = (self._number, self._from, self._room, self._identity)
        for field, widget in zip(FIELDS, widgets, strict=True):
            invalid = shown is not None and shown.field == field
            widget.setAccessibleDescription(shown.message if shown and invalid else "")
            if isinstance(widget, QLineEdit):  # a styled combo box loses its native look
                widget.setStyleSheet(f"border: 1px solid {ERROR_COLOR};" if invalid else "")
            if field in self._labels:
                self._labels[field].setStyleSheet(f"color: {ERROR_COLOR};" if invalid else "")
