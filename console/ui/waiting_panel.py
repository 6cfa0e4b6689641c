"""The Waiting area: callers on hold, and putting the selected one into a room as an identity.

In team mode a caller another operator is handling is greyed: Put in room is off for them, and
the panel says who has them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.dial_input import InvalidInput, check_identity, check_room
from console.models.waiting_model import (
    WAITING_COLUMN,
    WaitingCaller,
    WaitingModel,
    handling_text,
)
from console.ui.table_view import RecordTableView

EMPTY_HINT = "Nobody is waiting. Callers whose route says hold = true wait here for you."
_ERROR_STYLE = "color: #b3261e;"
_HINT_STYLE = "color: palette(placeholder-text);"


class WaitingPanel(QWidget):
    """Waiting callers; Put in room (or a drag onto a room) asks to connect the selected one."""

    put_in_room_requested = Signal(str, str, str)  # call_sid, room, identity

    def __init__(self, model: WaitingModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._prefilled_for = ""  # the caller whose suggested identity the field was given
        self._failure = ""  # why the last request failed, as the controller reported it
        self.view = RecordTableView(model, "Waiting")
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.setToolTip("Drag a caller onto a room to put them in it")
        header = self.view.horizontalHeader()  # ticking never shifts the columns
        header.setSectionResizeMode(WAITING_COLUMN, QHeaderView.ResizeMode.Fixed)
        self._keep_rows_visible(3)
        self.heading = QLabel()
        self.empty_hint = QLabel(EMPTY_HINT, wordWrap=True, accessibleName="Waiting hint")
        self.empty_hint.setStyleSheet(_HINT_STYLE)
        self.room = QComboBox(editable=True, accessibleName="Waiting room")
        self.room.lineEdit().setPlaceholderText("Room name")
        self.room.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # Enter puts, never adds
        self.room.setToolTip("An in-progress room, or a new name")
        self.room.setMinimumContentsLength(10)
        self.room.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.identity = QLineEdit(accessibleName="Waiting identity")
        self.identity.setPlaceholderText("(assigned by Twilio)")
        self.identity.setMinimumWidth(self.identity.fontMetrics().horizontalAdvance("n" * 10))
        self.put_button = QPushButton("&Put in room", accessibleName="Put in room")
        self.put_button.setToolTip(
            "Connect the selected caller to the room as this identity (Ctrl+P, or drag the "
            "caller onto a room)"
        )
        self.error = QLabel(wordWrap=True, accessibleName="Waiting error")
        self.error.setStyleSheet(_ERROR_STYLE)
        self.error.hide()
        self._build()
        self._connect_signals()
        self.on_rows_changed()

    def _keep_rows_visible(self, rows: int) -> None:
        """The table never shrinks below a few callers, at any window size."""
        view = self.view
        row = view.verticalHeader().defaultSectionSize()
        header = view.horizontalHeader().sizeHint().height()
        frame = 2 * view.frameWidth()
        scroll = view.horizontalScrollBar().sizeHint().height()
        view.setMinimumHeight(header + rows * row + frame + scroll)

    def _build(self) -> None:
        room_label = QLabel("R&oom")
        room_label.setBuddy(self.room)
        identity_label = QLabel("I&dentity")
        identity_label.setBuddy(self.identity)
        form = QHBoxLayout()
        form.addWidget(room_label)
        form.addWidget(self.room, 2)
        form.addWidget(identity_label)
        form.addWidget(self.identity, 2)
        form.addWidget(self.put_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty_hint)
        layout.addLayout(form)
        layout.addWidget(self.error)

    def _connect_signals(self) -> None:
        self.view.selectionModel().selectionChanged.connect(self.on_view_selection_changed)
        for rows_changed in (
            self._model.modelReset,
            self._model.rowsInserted,
            self._model.rowsRemoved,
        ):
            rows_changed.connect(self.on_rows_changed)
        self._model.dataChanged.connect(self.on_model_changed)
        self._model.columnsInserted.connect(self.on_model_columns_inserted)
        self.room.editTextChanged.connect(self.on_room_text_changed)
        self.identity.textChanged.connect(self.on_identity_text_changed)
        self.identity.returnPressed.connect(self.on_put_clicked)
        self.room.lineEdit().returnPressed.connect(self.on_put_clicked)
        self.put_button.clicked.connect(self.on_put_clicked)

    def current_caller(self) -> WaitingCaller | None:
        """The selected waiting caller."""
        return self.view.current_record()  # type: ignore[return-value]

    def identity_for(self, call_sid: str) -> str:
        """The identity for a caller: what the field says if selected, else the suggested one."""
        caller = self._model.caller(call_sid)
        if caller is None:
            return ""
        if caller == self.current_caller():
            try:
                return check_identity(self.identity.text())
            except InvalidInput:
                pass
        return caller.identity

    def select_caller(self, call_sid: str) -> bool:
        """Select the caller with this CallSid; False when not listed."""
        row = self._model.row_of(call_sid)
        if row >= 0:
            self.view.selectRow(row)
        return row >= 0

    def set_rooms(self, names: Sequence[str]) -> None:
        """Offer these rooms (sorted) under Room, keeping whatever the operator has typed."""
        text, cursor = self.room.currentText(), self.room.lineEdit().cursorPosition()
        self.room.blockSignals(True)
        self.room.clear()
        self.room.addItems(sorted(set(names), key=lambda name: (name.casefold(), name)))
        self.room.setCurrentIndex(self.room.findText(text))
        self.room.setEditText(text)
        self.room.lineEdit().setCursorPosition(cursor)
        self.room.blockSignals(False)

    def set_room(self, name: str) -> None:
        """Put this room name in the Room field, as if chosen."""
        self.room.setCurrentIndex(self.room.findText(name))
        self.room.setEditText(name)

    def show_error(self, message: str) -> None:
        """Say why putting a caller in a room failed, under the form ('' clears it)."""
        self._failure = message
        self._update()

    def _problem(self) -> str:
        """What keeps the form from being used ('' when it is fine or merely incomplete)."""
        room = self.room.currentText()
        try:
            if room.strip():
                check_room(room)
            check_identity(self.identity.text())
        except InvalidInput as error:
            return error.message
        return ""

    def _update(self) -> None:
        count = self._model.rowCount()
        self.heading.setText(f"<b>Waiting</b> ({count})" if count else "<b>Waiting</b>")
        self.empty_hint.setVisible(count == 0)
        caller = self.current_caller()
        problem = self._problem()
        holder = self._model.held_by_other(caller.call_sid) if caller is not None else ""
        message = problem or self._failure or (f"{handling_text(holder)} caller" if holder else "")
        self.error.setText(message)
        self.error.setVisible(bool(message))
        ready = caller is not None and not self._model.is_pending(caller.call_sid) and not holder
        self.put_button.setEnabled(ready and bool(self.room.currentText().strip()) and not problem)

    def _prefill(self) -> None:
        caller = self.current_caller()
        if caller is not None and caller.call_sid != self._prefilled_for:
            self._prefilled_for = caller.call_sid
            self._failure = ""
            self.identity.setText(caller.identity)

    @Slot(QItemSelection, QItemSelection)
    def on_view_selection_changed(self, *_: QItemSelection) -> None:
        self._prefill()
        self._update()

    @Slot()
    def on_rows_changed(self) -> None:
        """Callers came or went: keep a caller selected, and the form filled for them."""
        if self.current_caller() is None and self._model.rowCount():
            # The one who has waited longest, of those nobody else is handling.
            free = [
                row
                for row, caller in enumerate(self._model.records())
                if not self._model.held_by_other(caller.call_sid)
            ]
            self.view.selectRow(free[0] if free else 0)
        self._prefill()
        self._update()

    @Slot()
    def on_model_changed(self) -> None:
        self._update()

    @Slot()
    def on_model_columns_inserted(self) -> None:
        """Team mode added Handled by: the columns share the width again."""
        self.view.fit_columns()

    @Slot(str)
    def on_room_text_changed(self, _: str) -> None:
        self._update()

    @Slot(str)
    def on_identity_text_changed(self, _: str) -> None:
        self._update()

    @Slot()
    def on_put_clicked(self) -> None:
        caller = self.current_caller()
        if caller is None or not self.put_button.isEnabled():
            return
        room = check_room(self.room.currentText())
        identity = check_identity(self.identity.text())
        self.show_error("")
        self.put_in_room_requested.emit(caller.call_sid, room, identity)
