"""The event log's lines as a list model: newest last, a fixed number kept, errors marked.

A few hundred bytes a line, where a text document lays out every line it holds (several
kilobytes each): a shift's log stays small however long the shift.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from console.models.status_style import status_look

Index = QModelIndex | QPersistentModelIndex
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 3  # the whole entry a line belongs to (for filtering)
ERROR_ROLE = Qt.ItemDataRole.UserRole + 4
MAX_LINES = 5000


class LogModel(QAbstractListModel):
    """Lines of log entries (an entry may span lines); the oldest go past max_lines."""

    def __init__(self, max_lines: int = MAX_LINES, parent=None) -> None:
        super().__init__(parent)
        self._max = max_lines
        self._lines: deque[tuple[str, str, bool]] = deque()  # line, its entry, is an error
        self._bold = QFont()
        self._bold.setBold(True)

    def append(self, entry: str, error: bool = False) -> None:
        """Add an entry at the end, one row a line."""
        lines = entry.split("\n")[-self._max :]
        overflow = len(self._lines) + len(lines) - self._max
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            for _ in range(overflow):
                self._lines.popleft()
            self.endRemoveRows()
        first = len(self._lines)
        self.beginInsertRows(QModelIndex(), first, first + len(lines) - 1)
        self._lines.extend((line, entry, error) for line in lines)
        self.endInsertRows()

    def lines(self) -> list[str]:
        """Every line kept, oldest first."""
        return [line for line, _, _ in self._lines]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line, entry, error = self._lines[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return line
        if role == ENTRY_ROLE:
            return entry
        if role == ERROR_ROLE:
            return error
        if error and role == Qt.ItemDataRole.ForegroundRole:
            look = status_look("failed")
            return QBrush(QColor(look.colour)) if look else None
        if error and role == Qt.ItemDataRole.FontRole:
            return self._bold
        return None


class LogFilter(QSortFilterProxyModel):
    """Shows the whole entries whose text contains the filter (any case)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._wanted = ""

    def set_text(self, text: str) -> None:
        """Show only entries containing text ('' shows all)."""
        self.beginFilterChange()
        self._wanted = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        if not self._wanted:
            return True
        entry = self.sourceModel().index(row, 0, parent).data(ENTRY_ROLE) or ""
        return self._wanted in entry.casefold()
