"""An editable table of text rows (one table of routes.toml), each bad cell marked in place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from console.core.routes_form import CellErrors, Check, Row

Index = QModelIndex | QPersistentModelIndex
ERROR_ROLE = Qt.ItemDataRole.UserRole + 2
_ERROR_BACKGROUND = QBrush(QColor("#fde2e1"))
_UNUSED_TEXT = "—"
UNUSED_TIP = "Not used: this route's action does not need it"


class RulesTableModel(QAbstractTableModel):
    """Rows of stripped text cells; `check` finds each cell's problem after every change."""

    rows_edited = Signal()  # a cell changed, or a row was added or removed

    def __init__(
        self,
        titles: Sequence[str],
        check: Check,
        unused: Callable[[Row, int], bool] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._titles = tuple(titles)
        self._check = check
        self._unused = unused or (lambda row, column: False)  # cells that mean nothing now
        self._rows: list[list[str]] = []
        self._errors: CellErrors = {}

    def rows(self) -> list[Row]:
        """Every row, as tuples of text."""
        return [tuple(row) for row in self._rows]

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Replace all rows."""
        self.beginResetModel()
        self._rows = [self._fitted(row) for row in rows]
        self._errors = self._check(self.rows())
        self.endResetModel()
        self.rows_edited.emit()

    def add_row(self, values: Sequence[str] = ()) -> int:
        """Append a row (missing cells empty); returns its number."""
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(self._fitted(values))
        self.endInsertRows()
        self._recheck()
        return row

    def remove_row(self, row: int) -> bool:
        """Delete one row; False when there is no such row."""
        if not 0 <= row < len(self._rows):
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()
        self._recheck()
        return True

    def errors(self) -> CellErrors:
        """What is wrong, by (row, column)."""
        return dict(self._errors)

    def first_error(self) -> tuple[int, int, str] | None:
        """The first problem in reading order, as (row, column, message)."""
        if not self._errors:
            return None
        (row, column), message = min(self._errors.items())
        return row, column, message

    def title(self, column: int) -> str:
        """A column's header."""
        return self._titles[column]

    def _fitted(self, values: Sequence[str]) -> list[str]:
        cells = [str(value).strip() for value in values][: len(self._titles)]
        return cells + [""] * (len(self._titles) - len(cells))

    def _recheck(self) -> None:
        self._errors = self._check(self.rows())
        if self._rows:
            last = self.index(len(self._rows) - 1, len(self._titles) - 1)
            self.dataChanged.emit(self.index(0, 0), last)  # a change can fix or break others
        self.rows_edited.emit()

    def _is_unused(self, index: Index) -> bool:
        return self._unused(tuple(self._rows[index.row()]), index.column())

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._titles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        text = self._rows[index.row()][index.column()]
        error = self._errors.get((index.row(), index.column()), "")
        if role == Qt.ItemDataRole.DisplayRole:
            return _UNUSED_TEXT if self._is_unused(index) else text
        if role == Qt.ItemDataRole.EditRole:
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return error or (UNUSED_TIP if self._is_unused(index) else None)
        if role == Qt.ItemDataRole.BackgroundRole:
            return _ERROR_BACKGROUND if error else None
        if role == ERROR_ROLE:
            return error
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not (index.flags() & Qt.ItemFlag.ItemIsEditable):
            return False
        text = str(value or "").strip()
        if self._rows[index.row()][index.column()] != text:
            self._rows[index.row()][index.column()] = text
            self._recheck()
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags if self._is_unused(index) else flags | Qt.ItemFlag.ItemIsEditable

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._titles[section] if 0 <= section < len(self._titles) else None
        return str(section + 1) if 0 <= section < len(self._rows) else None
