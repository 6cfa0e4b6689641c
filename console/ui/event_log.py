"""The event log: webhook requests, the TwiML answered, call and room events, and errors."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

from webhook.events import RequestLogged

MAX_LINES = 5000


def describe_request(event: RequestLogged) -> str:
    """One webhook request as log text: method, path, status, and the TwiML or the reason."""
    line = f"{event.method} {event.path} → {event.status}"
    return f"{line}\n    {event.detail.strip()}" if event.detail else line


class EventLog(QDockWidget):
    """A dock the operator opens with Ctrl+L; keeps the last few thousand lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Event log", parent)
        self.setObjectName("EventLog")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setAccessibleName("Event log")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setWidget(self.text)

    def write(self, line: str) -> None:
        """Append a line, stamped with the local time."""
        self.text.appendPlainText(f"{datetime.now():%H:%M:%S}  {line}")

    def lines(self) -> list[str]:
        """Everything shown, one entry per line."""
        return self.text.toPlainText().splitlines()
