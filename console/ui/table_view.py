"""A read-only, row-selecting table view as every panel of the console uses it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from console.models.record_table_model import RecordTableModel
from console.models.status_style import ICON_SIZE


class RecordTableView(QTableView):
    """Shows a RecordTableModel: whole rows, one at a time; the selection survives resets.

    Spare width goes to the columns whose text runs long (each model column's stretch), not
    all to the last one, until the operator drags a divider.
    """

    def __init__(self, model: RecordTableModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._records = model
        self._kept_key = ""
        self._selected_key = ""  # the selected row's key: read on every change, so kept at hand
        self._fitting = False
        self.sized_by_operator = False
        # Before the model makes the columns: Qt never stretches the last one below its first size.
        self.horizontalHeader().setDefaultSectionSize(48)
        self.setModel(model)
        model.modelAboutToBeReset.connect(self.on_model_about_to_be_reset)
        model.modelReset.connect(self.on_model_reset)
        model.rowsRemoved.connect(self.on_selection_maybe_changed)
        self.selectionModel().selectionChanged.connect(self.on_selection_maybe_changed)
        self.setAccessibleName(name)
        self.setObjectName(name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        self.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.setWordWrap(False)  # one line a row; a long cell is elided, its tooltip has it all
        # Widths are set once from each column's usual text, not measured from the cells: fitting
        # to contents would ask the model for every cell on every refresh, on the GUI thread.
        # The operator can drag a divider, or double-click it to fit that column.
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._set_starting_widths()

    def _set_starting_widths(self) -> None:
        self._fitting = True
        for column, width in enumerate(self.starting_widths()[:-1]):  # the last takes the rest
            self.setColumnWidth(column, width)
        self._fitting = False
        self.horizontalHeader().sectionResized.connect(self.on_header_section_resized)

    def starting_widths(self) -> list[int]:
        """Each column's width for its usual text (and a status shape, where it has one)."""
        metrics = self.fontMetrics()
        padding = 16  # the header's margins and a little air
        widths = []
        for column in range(self._records.columnCount()):
            chars = self._records.column_chars(column)
            shape = ICON_SIZE + 4 if self._records.column_has_shape(column) else 0
            widths.append(metrics.horizontalAdvance("n" * chars) + padding + shape)
        return widths

    def fit_columns(self) -> None:
        """Share the width beyond the starting widths among the columns that stretch."""
        if self.sized_by_operator:
            return
        widths = self.starting_widths()
        weights = [self._records.column_stretch(c) for c in range(len(widths))]
        last = max(widths[-1], self.horizontalHeader().defaultSectionSize())  # Qt's least
        spare = self.viewport().width() - sum(widths[:-1]) - last
        if spare > 0 and sum(weights):
            total = sum(weights)
            widths = [
                w + spare * weight // total for w, weight in zip(widths, weights, strict=True)
            ]
        self._fitting = True
        for column, width in enumerate(widths[:-1]):
            self.setColumnWidth(column, width)
        self._fitting = False
        self.updateGeometries()  # the scroll bars follow the new widths now, not next time

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    @Slot(int, int, int)
    def on_header_section_resized(self, column: int, _old: int, _new: int) -> None:
        last = column == self._records.columnCount() - 1  # follows the view's width anyway
        if not self._fitting and not last and self.horizontalHeader().isVisible():
            self.sized_by_operator = True

    def current_record(self) -> object | None:
        """The record of the selected row, or None.

        Buttons and actions ask on every change of every row: the answer comes from the key
        noted when the selection last changed, not from walking the selection each time.
        """
        if not self._selected_key:
            return None
        return self._records.record_at(self._records.row_of(self._selected_key))

    @Slot()
    def on_selection_maybe_changed(self) -> None:
        """Note the selected row's key (rows removed may have taken the selected one along)."""
        rows = self.selectionModel().selectedRows()
        record = self._records.record_at(rows[0].row()) if rows else None
        self._selected_key = self._records.key_of(record) if record is not None else ""

    @Slot()
    def on_model_about_to_be_reset(self) -> None:
        record = self.current_record()
        self._kept_key = self._records.key_of(record) if record is not None else ""

    @Slot()
    def on_model_reset(self) -> None:
        row = self._records.row_of(self._kept_key) if self._kept_key else -1
        if row >= 0:
            self.selectRow(row)
        self.on_selection_maybe_changed()  # a reset clears the selection without a signal
