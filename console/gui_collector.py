"""Runs Python's cycle collector on the GUI thread only, so Qt objects are never freed elsewhere.

Left automatic, the collector runs in whichever thread happens to allocate: a webhook or worker
thread can then free a cycle holding a Qt connection. PySide disconnects it holding Qt's
connection lock while it waits for the interpreter lock, and the GUI thread, holding the
interpreter lock, waits for that connection lock: both hang. (Seen in the 200-client load test.)
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200  # young objects gathered between checks; a collection of them takes ~1 ms


class GuiThreadCollector(QObject):
    """While running, automatic collection is off and this collects from a GUI-thread timer."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._was_enabled = False

    def start(self) -> None:
        """Turn automatic collection off and collect from the timer instead."""
        if not self._timer.isActive():
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()

    def stop(self) -> None:
        """Give collection back to Python, as it was before start()."""
        if self._timer.isActive():
            self._timer.stop()
            if self._was_enabled:
                gc.enable()

    def collect_due(self) -> None:
        """Collect the generations whose counts passed Python's own thresholds."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for level in range(3):
            if counts[level] <= thresholds[level]:
                break
            generation = level
        if generation >= 0:
            gc.collect(generation)
