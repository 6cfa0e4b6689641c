"""The dial list table: each entry with where it stands, and the rows that will not be dialed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from console.core.calls.dial_list import ERROR, BadRow, EntryStatus
from console.models.record_table_model import Column, Index, RecordTableModel

STATUS_COLUMN = 4
TROUBLE = frozenset({"busy", "no-answer", "failed", "canceled", ERROR})
_RED = QColor("#c0392b")


def message(state: EntryStatus) -> str:
    """The error, or which attempt this is once the entry was retried."""
    if state.message:
        return state.message
    return f"Attempt {state.attempts}" if state.attempts > 1 else ""


class DialListModel(RecordTableModel[EntryStatus]):
    """Entries of a dial list in file order, keyed by their row in the file."""

    def __init__(self, parent=None) -> None:
        columns = [
            Column[EntryStatus]("Row", lambda s: str(s.entry.row), chars=4),
            Column[EntryStatus]("Number", lambda s: s.entry.to, chars=16),
            Column[EntryStatus]("Identity", lambda s: s.entry.identity, chars=16),
            Column[EntryStatus]("Name", lambda s: s.entry.display_name, chars=16),
            Column[EntryStatus]("Status", lambda s: s.status, chars=11),
            Column[EntryStatus]("Message", message),
        ]
        super().__init__(columns, key=lambda s: str(s.entry.row), parent=parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS_COLUMN:
            state = self.record_at(index.row())
            return _RED if state is not None and state.status in TROUBLE else None
        return super().data(index, role)


class BadRowsModel(RecordTableModel[BadRow]):
    """Rows of the file that will not be dialed, with the reason, keyed by row."""

    def __init__(self, parent=None) -> None:
        columns = [
            Column[BadRow]("Row", lambda b: str(b.row), chars=4),
            Column[BadRow]("Reason", lambda b: b.reason, chars=24),
            Column[BadRow]("Text", lambda b: b.text),
        ]
        super().__init__(columns, key=lambda b: str(b.row), parent=parent)
