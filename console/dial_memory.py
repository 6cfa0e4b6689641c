"""Remembers the last dial's caller ID and room, writing the settings file off the GUI thread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QSettings

from console.core.preferences import Preferences
from console.tasks import TaskRunner

log = logging.getLogger(__name__)

Choice = tuple[str, str]  # caller ID, room


class DialMemory(QObject):
    """Keeps the last dial's caller ID and room in the settings for the next session.

    Writing settings syncs the file to disk (a lock file, fdatasync and a rename): on a busy
    disk that takes long enough to stall the window, and a shift dials every few seconds. So
    the file is written from a worker, one write at a time, always with the latest choice.
    Settings objects on the same file share one cache, so the window's own preferences read
    the new values at once.
    """

    def __init__(
        self, preferences: Preferences, runner: TaskRunner, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._preferences, self._runner = preferences, runner
        self._written: Choice = (preferences.last_from, preferences.last_room)
        self._latest = self._written
        self._writing = False

    def remember(self, from_: str, room: str) -> None:
        """Keep this caller ID and room for next time (written in the background)."""
        self._latest = (from_, room)
        if not self._writing and self._latest != self._written:
            self._write_latest()

    def _write_latest(self) -> None:
        settings = self._preferences.settings
        where, form, choice = settings.fileName(), settings.format(), self._latest
        self._writing = True
        self._runner.submit(
            lambda: _write(where, form, choice), self._on_written, self._on_write_failed
        )

    def _on_written(self, choice: Choice) -> None:
        self._written, self._writing = choice, False
        if self._latest != self._written:  # chosen again while the last write was under way
            self._write_latest()

    def _on_write_failed(self, error: object) -> None:
        self._writing = False
        log.warning("could not remember the last caller ID and room: %s", error)


def _write(where: str, form: QSettings.Format, choice: Choice) -> Choice:
    """On a worker: write the choice to the settings file and sync it."""
    preferences = Preferences(QSettings(where, form))
    preferences.last_from, preferences.last_room = choice
    preferences.sync()
    return choice
