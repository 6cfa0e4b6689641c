"""One table of the Routes editor in a titled box, with its Add and Remove buttons."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from console.models.rules_table_model import RulesTableModel
from console.ui.rules_table_view import RulesTableView


class RulesBox(QGroupBox):
    """A rules table; Add appends a row (new_row's cells) and edits it, Remove deletes the
    current row. Alt+Shift+key adds one."""

    def __init__(
        self,
        title: str,
        model: RulesTableModel,
        name: str,
        what: str,
        key: str,
        new_row: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self.model, self._new_row = model, tuple(new_row)
        self.view = RulesTableView(model, name)
        self.add_button = QPushButton(f"Add {what}", accessibleName=f"Add {what}")
        self.remove_button = QPushButton(f"Remove {what}", accessibleName=f"Remove {what}")
        self.add_button.setToolTip(f"Add a {what} (Alt+Shift+{key})")
        self.add_button.setShortcut(f"Alt+Shift+{key}")
        self.add_button.clicked.connect(self.on_add_clicked)
        self.remove_button.clicked.connect(self.on_remove_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def update_buttons(self) -> None:
        """Remove works on the current row: enabled only while there is one."""
        self.remove_button.setEnabled(self.view.currentIndex().isValid())

    @Slot()
    def on_add_clicked(self) -> None:
        self.view.start_editing(self.model.add_row(self._new_row))

    @Slot()
    def on_remove_clicked(self) -> None:
        row = self.view.currentIndex().row()
        if self.model.remove_row(row) and self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(min(row, self.model.rowCount() - 1), 0))
