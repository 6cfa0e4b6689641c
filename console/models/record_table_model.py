"""A read-only table model over a list of frozen records, keyed so selections survive refreshes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from console.models.status_style import status_look

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
_STATUS_ROLES = (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole)
# The roles these cells answer: a paint asks every cell for a dozen (font, alignment, check
# state...), and the others are turned away before any work.
_ANSWERED = frozenset(
    int(role) for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, *_STATUS_ROLES)
) | {RECORD_ROLE}


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its header, how to show a record in it, and how it looks and grows."""

    title: str
    text: Callable[[R], str]
    chars: int = 12  # the usual width of its text, in characters: sets the starting width
    tip: Callable[[R], str] | None = None  # the tooltip, when it says more than the text
    status: Callable[[R], str] | None = None  # a status whose colour and shape the cell takes
    stretch: int = 0  # its share of the width the view has to spare (0: none)
    clocked: bool = False  # its text changes with the time (an age), not only with the record


class RecordTableModel(QAbstractTableModel, Generic[R]):
    """Rows are records; refreshing with the same keys in the same order updates cells in place.

    redraws_unchanged: whether such a refresh redraws every cell, for models whose cells show
    more than their records hold. Models whose cells depend only on the record (and the clock,
    in clocked columns) turn it off: a periodic refresh then repaints only what changed.
    """

    redraws_unchanged = True

    def __init__(self, columns: Sequence[Column[R]], key: Callable[[R], str], parent=None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._key = key
        self._records: list[R] = []
        self._rows: dict[str, int] = {}  # key → row, so a callback finds its call at once

    def column_stretch(self, column: int) -> int:
        """The column's share of spare width (the view gives the rest to nobody)."""
        return self._columns[column].stretch

    def column_has_shape(self, column: int) -> bool:
        """Whether the column's cells carry a status shape before their text."""
        return self._columns[column].status is not None

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
        return self._rows.get(key, -1)

    def _index_rows(self) -> None:
        self._rows = {self._key(r): row for row, r in enumerate(self._records)}

    def set_records(self, records: Sequence[R]) -> None:
        """Show these records, changing cells in place when the rows are the same ones."""
        records = list(records)
        if [self._key(r) for r in records] == [self._key(r) for r in self._records]:
            before, self._records = self._records, records  # same keys, same rows: index holds
            if not records:
                return
            if self.redraws_unchanged:
                last = self.index(len(records) - 1, len(self._columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
                return
            changed = [row for row, old in enumerate(before) if old != records[row]]
            for first, last_row in _runs(changed):
                last = self.index(last_row, len(self._columns) - 1)
                self.dataChanged.emit(self.index(first, 0), last)
            for column, spec in enumerate(self._columns):
                if spec.clocked:
                    bottom = self.index(len(records) - 1, column)
                    self.dataChanged.emit(self.index(0, column), bottom)
            return
        self.beginResetModel()
        self._records = records
        self._index_rows()
        self.endResetModel()

    def put(self, record: R) -> int:
        """Replace the record with the same key in place, or append it; returns its row."""
        row = self.row_of(self._key(record))
        if row >= 0:
            self._records[row] = record
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1))
            return row
        row = len(self._records)
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.append(record)
        self._rows[self._key(record)] = row
        self.endInsertRows()
        return row

    def insert(self, row: int, record: R) -> None:
        """Show a record (whose key is not shown yet) at row, moving the later rows down."""
        row = max(0, min(row, len(self._records)))
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.insert(row, record)
        self._index_rows()
        self.endInsertRows()

    def remove_at(self, row: int) -> None:
        """Remove one row."""
        self.remove_rows([row])

    def remove_rows(self, rows: Sequence[int]) -> None:
        """Remove these rows, each run of neighbouring rows at once (one signal, one redraw)."""
        wanted = sorted({row for row in rows if 0 <= row < len(self._records)})
        for first, last in reversed(_runs(wanted)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._records[first : last + 1]
            self._index_rows()
            self.endRemoveRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED:
            return None
        row = index.row()  # -1 for an invalid index
        if not 0 <= row < len(self._records):
            return None
        record = self._records[row]
        spec = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (spec.tip or spec.text)(record) or None
        if role == RECORD_ROLE:
            return record
        if spec.status is not None and role in _STATUS_ROLES:
            look = status_look(spec.status(record))
            if look is not None:
                return look.icon() if role == Qt.ItemDataRole.DecorationRole else look.brush()
            return None
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


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending rows as (first, last) runs of neighbours: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
