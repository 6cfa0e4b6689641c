"""The Team panel: a dock listing the operators online and what each is doing (team mode)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from console.models.presence_model import PresenceModel
from console.ui.table_view import RecordTableView

EMPTY_HINT = "Nobody else is online."


def online_heading(count: int) -> str:
    """The panel's heading: how many operators are online."""
    if count == 0:
        return "<b>Team</b>"
    return f"<b>Team</b> · {count} operator{'s' if count != 1 else ''} online"


class TeamPanel(QDockWidget):
    """Operators online with their activity; View ▸ Team toggles it, Escape closes it."""

    def __init__(self, model: PresenceModel, parent: QWidget | None = None) -> None:
        super().__init__("Team", parent)
        self.setObjectName("TeamPanel")
        self.model = model
        self.heading = QLabel(online_heading(0), accessibleName="Team heading")
        self.view = RecordTableView(model, "Team")
        self.view.setToolTip("The operators online now, and what each is doing")
        self.empty_hint = QLabel(EMPTY_HINT, accessibleName="Team hint")
        self.empty_hint.setStyleSheet("color: palette(placeholder-text);")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty_hint)
        self.setWidget(body)
        close = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        close.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close.activated.connect(self.hide)
        for changed in (model.modelReset, model.dataChanged, model.rowsInserted, model.rowsRemoved):
            changed.connect(self.on_model_changed)
        self.on_model_changed()

    @Slot()
    def on_model_changed(self) -> None:
        count = self.model.rowCount()
        self.heading.setText(online_heading(count))
        alone = count == 0 or self.model.names() == [self.model.operator]
        self.empty_hint.setVisible(alone)
