"""A read-only table model over a list of frozen records, keyed so selections survive refreshes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header and how to show a record in it."""

    title: str
    text: Callable[[R], str]
    chars: int = 12  # the usual width of its text, in characters: sets the starting width


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows are records; refreshing with the same keys in the same order updates cells in place."""

    def __init__(self, columns: Sequence[Column[R]], key: Callable[[R], str], parent=None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._key = key
        self._records: list[R] = []

    def column_chars(self, column: int) -> int:
        """The usual width of a column's text in characters (its title's, if that is wider)."""
        spec = self._columns[column]
        return max(spec.chars, len(spec.title))

    def records(self) -> list[R]:
        """The records shown, in row order."""
        return list(self._records)

    def record_at(self, row: int) -> R | None:
        """The record in a row, or None when there is no such row."""
        return self._records[row] if 0 <= row < len(self._records) else None

    def key_of(self, record: R) -> str:
        """The key that identifies a record across refreshes."""
        return self._key(record)

    def row_of(self, key: str) -> int:
        """The row holding the record with this key, or -1."""
        return next((i for i, r in enumerate(self._records) if self._key(r) == key), -1)

    def set_records(self, records: Sequence[R]) -> None:
        """Show these records, changing cells in place when the rows are the same ones."""
        records = list(records)
        if [self._key(r) for r in records] == [self._key(r) for r in self._records]:
            self._records = records
            if records:
                last = self.index(len(records) - 1, len(self._columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._records = records
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._columns[index.column()].text(record)
        if role == RECORD_ROLE:
            return record
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None
