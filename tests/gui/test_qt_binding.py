"""Guards against a Qt binding that leaks references to None (PySide6 6.12.0 on Python 3.11)."""

import sys

from PySide6.QtWidgets import QWidget


def test_calls_returning_none_keep_none_alive(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.setEnabled(True)  # returns None
    assert sys.getrefcount(None) >= before - 50  # a leak would drop it by about 2000
