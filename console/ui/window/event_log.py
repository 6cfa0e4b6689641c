"""The event log: webhook requests, the TwiML answered, call and room events, and errors."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from console.models.log_model import MAX_LINES, LogFilter, LogModel
from webhook.events import RequestLogged


def describe_request(event: RequestLogged) -> str:
    """One webhook request as log text: method, path, status, and the TwiML or the reason."""
    line = f"{event.method} {event.path} → {event.status}"
    return f"{line}\n    {event.detail.strip()}" if event.detail else line


def is_error(line: str) -> bool:
    """Whether a log entry reports something that went wrong (our errors, 4xx and 5xx answers)."""
    first = line.split("\n", 1)[0]
    return first.startswith("ERROR") or " → 4" in first or " → 5" in first


class EventLog(QDockWidget):
    """A dock the operator opens with Ctrl+L and closes with Escape; errors stand out in red and
    bold, the filter box shows only the entries that contain its text, Ctrl+C copies lines."""

    def __init__(self, parent: QWidget | None = None, max_lines: int = MAX_LINES) -> None:
        super().__init__("Event log", parent)
        self.setObjectName("EventLog")
        self.model = LogModel(max_lines, self)
        self.shown = LogFilter(self)
        self.shown.setSourceModel(self.model)
        self.filter = QLineEdit(accessibleName="Filter event log", clearButtonEnabled=True)
        self.filter.setPlaceholderText("Show only entries containing…")
        self.view = QListView(accessibleName="Event log")
        self.view.setModel(self.shown)
        self.view.setUniformItemSizes(True)  # one line a row: no row is measured
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        self.setWidget(body)
        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close.activated.connect(self.hide)
        copy = QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self.view)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_selection)
        self.filter.textChanged.connect(self.shown.set_text)
        self.visibilityChanged.connect(self.on_visibility_changed)

    def write(self, line: str) -> None:
        """Append an entry, stamped with the local time (an error in red)."""
        scroll = self.view.verticalScrollBar()
        at_end = scroll.value() >= scroll.maximum() - 2
        self.model.append(f"{datetime.now():%H:%M:%S}  {line}", is_error(line))
        if at_end and self.isVisible():
            self.view.scrollToBottom()

    def lines(self) -> list[str]:
        """Everything kept, one line per line."""
        return self.model.lines()

    def shown_lines(self) -> list[str]:
        """The lines the filter lets through."""
        return [self.shown.index(row, 0).data() for row in range(self.shown.rowCount())]

    @Slot()
    def copy_selection(self) -> None:
        """Put the selected lines on the clipboard, in order."""
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows())
        text = "\n".join(self.shown.index(row, 0).data() for row in rows)
        QGuiApplication.clipboard().setText(text)

    @Slot(bool)
    def on_visibility_changed(self, visible: bool) -> None:
        if visible:
            self.view.scrollToBottom()
            self.filter.setFocus()
