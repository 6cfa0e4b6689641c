"""A read-only, row-selecting table view as every panel of the console uses it."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from console.models.record_table_model import RECORD_ROLE, RecordTableModel


class RecordTableView(QTableView):
    """Shows a RecordTableModel: whole rows, one at a time; the selection survives resets."""

    def __init__(self, model: RecordTableModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._records = model
        self._kept_key = ""
        self.setModel(model)
        model.modelAboutToBeReset.connect(self.on_model_about_to_be_reset)
        model.modelReset.connect(self.on_model_reset)
        self.setAccessibleName(name)
        self.setObjectName(name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        # Widths are set once from each column's usual text, not measured from the cells: fitting
        # to contents would ask the model for every cell on every refresh, on the GUI thread.
        # The operator can drag a divider, or double-click it to fit that column.
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._set_starting_widths()

    def _set_starting_widths(self) -> None:
        metrics = self.fontMetrics()
        padding = 16  # the header's margins and a little air
        for column in range(self._records.columnCount() - 1):  # the last one takes what is left
            chars = self._records.column_chars(column)
            self.setColumnWidth(column, metrics.horizontalAdvance("n" * chars) + padding)

    def current_record(self) -> object | None:
        """The record of the selected row, or None."""
        rows = self.selectionModel().selectedRows()
        return rows[0].data(RECORD_ROLE) if rows else None

    @Slot()
    def on_model_about_to_be_reset(self) -> None:
        record = self.current_record()
        self._kept_key = self._records.key_of(record) if record is not None else ""

    @Slot()
    def on_model_reset(self) -> None:
        row = self._records.row_of(self._kept_key) if self._kept_key else -1
        if row >= 0:
            self.selectRow(row)
