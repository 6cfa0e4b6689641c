"""An editable table view for one table of routes.toml; some columns pick from a fixed list."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from console.models.rules_table_model import RulesTableModel


class _ChoiceDelegate(QStyledItemDelegate):
    """Edits a cell with a list of choices; picking one commits it at once."""

    def __init__(self, name: str, choices: Sequence[str], parent: QWidget) -> None:
        super().__init__(parent)
        self._name, self._choices = name, tuple(choices)

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex
    ) -> QWidget:
        editor = QComboBox(parent, accessibleName=self._name)
        editor.addItems(self._choices)
        editor.activated.connect(self.on_editor_activated)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        editor.setCurrentText(index.data())  # type: ignore[attr-defined]

    def setModelData(
        self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        model.setData(index, editor.currentText())  # type: ignore[attr-defined]

    @Slot(int)
    def on_editor_activated(self, _: int) -> None:
        editor = self.sender()
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)


class RulesTableView(QTableView):
    """Cells edit on a double click, F2 or typing; bad cells show their problem as a tooltip."""

    def __init__(self, model: RulesTableModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setAccessibleName(name)
        self.setObjectName(name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def set_choices(self, column: int, choices: Sequence[str]) -> None:
        """Edit this column by picking one of choices (the editor is named after the column)."""
        title = str(self.model().headerData(column, Qt.Orientation.Horizontal))
        self.setItemDelegateForColumn(column, _ChoiceDelegate(title, choices, self))

    def start_editing(self, row: int, column: int = 0) -> None:
        """Focus a cell and open its editor, as after Add."""
        index = self.model().index(row, column)
        self.setFocus()
        self.setCurrentIndex(index)
        self.edit(index)
