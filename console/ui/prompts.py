"""Window-modal questions that never block the event loop: the answer arrives as a callback."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

Choice = tuple[str, QMessageBox.ButtonRole, Callable[[], object]]


def ask(
    parent: QWidget,
    name: str,
    title: str,
    text: str,
    choices: Sequence[Choice],
    default: str = "",
) -> QMessageBox:
    """Show a question; the chosen button's action runs (Escape picks the reject-role choice).

    Enter picks the choice labelled default, or the first one.
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setObjectName(name)
    box.setAccessibleName(title)
    actions = {}
    chosen = None
    for label, role, action in choices:
        button = box.addButton(label, role)
        button.setAccessibleName(label.replace("&", ""))
        actions[button] = action
        if role == QMessageBox.ButtonRole.RejectRole:
            box.setEscapeButton(button)
        if default and label.replace("&", "") == default:
            chosen = button
    box.setDefaultButton(chosen or next(iter(actions)))

    def on_finished(_: int) -> None:
        action = actions.get(box.clickedButton())
        if action is None:  # closed some other way: take the escape choice
            action = actions.get(box.escapeButton(), lambda: None)
        action()
        box.deleteLater()

    box.finished.connect(on_finished)
    box.open()
    return box
