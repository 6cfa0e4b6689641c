"""Draws the operator's eye to a new waiting caller: urgency, a count in the title, a notice."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from console.core.number_text import display_number
from console.core.preferences import Preferences
from console.models.waiting_model import WaitingModel

TITLE = "Switchboard"
NOTICE_MS = 10_000


def waiting_title(count: int) -> str:
    """The window title: 'Switchboard', or 'Switchboard — 2 waiting'."""
    return f"{TITLE} — {count} waiting" if count else TITLE


class WaitingAttention(QObject):
    """Watches the Waiting list; each new caller raises the window's urgency hint, updates the
    title's count, shows a tray notification where the desktop has a tray, and beeps if the
    operator asked for it. In a team, callers another operator handles raise nothing."""

    def __init__(self, window: QWidget, model: WaitingModel, preferences: Preferences) -> None:
        super().__init__(window)
        self._window, self._model, self._preferences = window, model, preferences
        self._known: set[str] = set()
        self.tray: QSystemTrayIcon | None = None
        self.alerts = 0  # how many times the window asked for attention
        self.beeps = 0  # how many of those beeped too
        self.last_notice = ""  # the text of the latest notification
        model.modelReset.connect(self.on_model_changed)
        model.rowsInserted.connect(self.on_model_changed)
        model.rowsRemoved.connect(self.on_model_changed)
        self.on_model_changed()

    @Slot()
    def on_model_changed(self) -> None:
        callers = self._model.records()
        current = {c.call_sid for c in callers}
        new = [  # a caller another operator already handles is no call to this one
            c
            for c in callers
            if c.call_sid not in self._known and not self._model.held_by_other(c.call_sid)
        ]
        self._known = current
        self._window.setWindowTitle(waiting_title(len(callers)))
        if new:
            first = new[0]
            more = f" and {len(new) - 1} more" if len(new) > 1 else ""
            self._notify(
                f"{display_number(first.from_)}{more} waiting on {display_number(first.to)}"
            )

    def _notify(self, text: str) -> None:
        self.alerts += 1
        self.last_notice = text
        QApplication.alert(self._window, 0)  # urgency hint / taskbar flash until activated
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self.tray is None:
                self.tray = QSystemTrayIcon(self._window.windowIcon(), self)
                self.tray.setToolTip(TITLE)
                self.tray.messageClicked.connect(self.on_tray_message_clicked)
            self.tray.show()
            self.tray.showMessage(
                "Caller waiting", text, QSystemTrayIcon.MessageIcon.Information, NOTICE_MS
            )
        if self._preferences.waiting_sound:
            self.beeps += 1
            QApplication.beep()

    @Slot()
    def on_tray_message_clicked(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def stop(self) -> None:
        """The window is closing: take the tray icon away."""
        if self.tray is not None:
            self.tray.hide()
