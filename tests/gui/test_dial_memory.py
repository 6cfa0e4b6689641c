"""DialMemory: the last caller ID and room reach the settings file from a worker thread."""

import threading

from PySide6.QtCore import QSettings

from console.core.preferences import Preferences
from console.dial_memory import DialMemory
from console.tasks import TaskRunner


def test_the_latest_choice_is_written_off_the_gui_thread(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "switchboard.ini"
    preferences = Preferences(QSettings(str(path), QSettings.Format.IniFormat))
    syncs: list[threading.Thread] = []
    real_sync = Preferences.sync

    def sync(self: Preferences) -> None:
        syncs.append(threading.current_thread())
        real_sync(self)

    monkeypatch.setattr(Preferences, "sync", sync)
    runner = TaskRunner()
    memory = DialMemory(preferences, runner)
    memory.remember("+15005550006", "Support")
    memory.remember("+15005550006", "Sales")  # while the first write is under way
    memory.remember("+15005550007", "Standup")
    qtbot.waitUntil(lambda: runner.pending == 0 and not memory._writing)
    text = path.read_text()
    assert "last_from=+15005550007" in text and "last_room=Standup" in text
    assert 1 <= len(syncs) <= 2  # the choices in between were never written one by one
    assert all(thread is not threading.main_thread() for thread in syncs)
    # The window's own preferences see the new choice (the settings share one cache).
    assert (preferences.last_from, preferences.last_room) == ("+15005550007", "Standup")


def test_the_same_choice_again_writes_nothing(tmp_path):
    preferences = Preferences(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    preferences.last_from, preferences.last_room = "+15005550006", "Support"
    runner = TaskRunner()
    memory = DialMemory(preferences, runner)
    memory.remember("+15005550006", "Support")
    assert runner.pending == 0
