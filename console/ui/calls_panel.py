"""The calls area: calls placed this session, their live status, and Hang up."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from console.core.calls.records import Call
from console.models.calls_model import CallsModel
from console.ui.table_view import RecordTableView


class CallsPanel(QWidget):
    """The session's calls; Hang up works on the selected call while it is live."""

    hang_up_requested = Signal(object)  # Call

    def __init__(self, calls: CallsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = RecordTableView(calls, "Calls")
        self.hang_up_button = QPushButton("&Hang up")
        self.hang_up_button.setAccessibleName("Hang up")
        self.hang_up_button.setToolTip("End the selected call (Ctrl+H)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Calls this session</b>"))
        row.addStretch(1)
        row.addWidget(self.hang_up_button)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self._connect_signals()
        self._update_buttons()

    def _connect_signals(self) -> None:
        self.view.selectionModel().selectionChanged.connect(self.on_view_selection_changed)
        model = self.view.model()
        model.dataChanged.connect(self.on_model_changed)
        model.modelReset.connect(self.on_model_changed)
        self.hang_up_button.clicked.connect(self.on_hang_up_clicked)

    def current_call(self) -> Call | None:
        """The selected call."""
        return self.view.current_record()  # type: ignore[return-value]

    def select_call(self, sid: str) -> None:
        """Select the call with this SID."""
        row = self.view.model().row_of(sid)  # type: ignore[attr-defined]
        if row >= 0:
            self.view.selectRow(row)

    def _update_buttons(self) -> None:
        call = self.current_call()
        self.hang_up_button.setEnabled(call is not None and not call.finished)

    @Slot(QItemSelection, QItemSelection)
    def on_view_selection_changed(self, *_: QItemSelection) -> None:
        self._update_buttons()

    @Slot()
    def on_model_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def on_hang_up_clicked(self) -> None:
        call = self.current_call()
        if call is not None and not call.finished:
            self.hang_up_requested.emit(call)
