"""Starts the Qt application and shows the main window."""

from __future__ import annotations

import argparse
import sys


def run_gui(args: argparse.Namespace) -> int:
    """Open the console window and run the Qt event loop until it closes."""
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Switchboard")
    window.setCentralWidget(QLabel("Switchboard"))
    window.resize(1024, 640)
    window.show()
    return app.exec()
