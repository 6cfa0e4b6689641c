"""Starts the Qt application and shows the main window."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def build_window() -> QMainWindow:
    """The console's main window (a placeholder until the full console lands)."""
    window = QMainWindow()
    window.setWindowTitle("Switchboard")
    label = QLabel(
        "<h2>Switchboard</h2>"
        "<p>The operator console (rooms, dial pad, calls) is not in this version yet.</p>"
        "<p>Available now from a terminal:<br>"
        "<code>switchboard sandbox</code> runs the offline Twilio stand-in,<br>"
        "<code>switchboard webhook</code> serves the TwiML webhook.</p>"
    )
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setAccessibleName("Switchboard")
    window.setCentralWidget(label)
    window.resize(1024, 640)
    return window


def run_gui(args: argparse.Namespace) -> int:
    """Open the console window and run the Qt event loop until it closes."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = build_window()
    window.show()
    return app.exec()
