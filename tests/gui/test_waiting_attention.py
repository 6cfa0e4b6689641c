"""A new waiting caller draws the operator's eye: urgency, a count in the title, a notice."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QTableView

from tests.gui.conftest import ring_waiting_caller, sandbox_control
from tests.gui.test_console_window import WAIT
from tests.helpers.widgets import by_name


@pytest.fixture
def alerts(monkeypatch) -> list:
    """Every QApplication.alert the window makes, passed on to Qt as usual."""
    made: list = []
    real = QApplication.alert

    def alert(widget, duration=0):
        made.append((widget, duration))
        real(widget, duration)

    monkeypatch.setattr(QApplication, "alert", alert)
    return made


def test_each_new_caller_alerts_and_counts_in_the_title(qtbot, hold_routes, session, alerts):
    window = session.window
    assert window.windowTitle() == "Switchboard"
    first = ring_waiting_caller(qtbot, session, "+14155550100")
    assert window.windowTitle() == "Switchboard — 1 waiting"
    assert alerts == [(window, 0)]  # the urgency hint, until the operator looks
    assert window.attention.last_notice == ("+1 415-555-0100 (US) waiting on +1 500-555-0006 (US)")
    ring_waiting_caller(qtbot, session, "+442071838750")
    assert window.windowTitle() == "Switchboard — 2 waiting"
    assert len(alerts) == 2
    assert window.attention.beeps == 0  # the sound is off unless the operator turns it on
    sandbox_control(session, f"Calls/{first}/Hangup")
    qtbot.waitUntil(lambda: window.windowTitle() == "Switchboard — 1 waiting", timeout=WAIT)
    assert len(alerts) == 2  # a caller leaving is no news


def test_the_sound_is_set_in_settings(qtbot, hold_routes, session):
    window = session.window
    assert not window.preferences.waiting_sound
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(QDialog, "settings")
    qtbot.waitUntil(dialog.isVisible)
    sound = by_name(dialog, "Sound for waiting callers", QCheckBox)
    assert not sound.isChecked()
    qtbot.mouseClick(sound, Qt.MouseButton.LeftButton)
    dialog.accept()
    assert window.preferences.waiting_sound
    ring_waiting_caller(qtbot, session)
    assert window.attention.beeps == 1


def test_without_a_tray_the_alert_and_title_still_work(qtbot, hold_routes, session):
    from PySide6.QtWidgets import QSystemTrayIcon

    ring_waiting_caller(qtbot, session)
    if QSystemTrayIcon.isSystemTrayAvailable():  # a desktop session: the notice went there
        assert session.window.attention.tray is not None
    else:  # offscreen, as here in CI: no tray icon is made, nothing fails
        assert session.window.attention.tray is None


@pytest.mark.parametrize("size", [(900, 600), (1024, 640), (1180, 720), (1920, 1080)])
def test_the_waiting_list_shows_three_callers_at_every_size(qtbot, session, size):
    window = session.window
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    view = by_name(window, "Waiting", QTableView)
    rows = view.viewport().height() / view.verticalHeader().defaultSectionSize()
    assert rows >= 3, f"only {rows:.1f} rows of waiting callers at {size}"


def test_in_a_team_callers_another_operator_handles_raise_no_alert(qtbot, alerts, tmp_path):
    from datetime import UTC, datetime

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from console.core.preferences import Preferences
    from console.models.waiting_model import WaitingCaller, WaitingModel
    from console.ui.window.attention import WaitingAttention

    window = QWidget()
    qtbot.addWidget(window)
    model = WaitingModel()
    model.set_operator("grace")
    settings = QSettings(str(tmp_path / "attention.ini"), QSettings.Format.IniFormat)
    attention = WaitingAttention(window, model, Preferences(settings))
    now = datetime.now(UTC)
    held = WaitingCaller("CA1", "+14155550100", "+15005550006", now)
    free = WaitingCaller("CA2", "+442071838750", "+15005550006", now)
    model.set_line([held, free], {"CA1": "ada"})  # the team's line as this console opens
    assert window.windowTitle() == "Switchboard — 2 waiting"  # both wait, and are counted
    assert len(alerts) == 1 and attention.last_notice.startswith("+44 20 7183 8750")
