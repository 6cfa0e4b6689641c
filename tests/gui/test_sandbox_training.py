"""Sandbox mode as a training ground: simulated incoming calls, the sandbox's details, curl."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QPlainTextEdit, QPushButton

from tests.gui.test_console_window import WAIT
from tests.helpers.widgets import by_name

README = Path(__file__).resolve().parents[2] / "README.md"


def open_from_menu(qtbot, window, menu_title: str, entry: str) -> None:
    """Trigger a menu bar entry as a click on it would."""
    (top,) = [a for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title]
    (action,) = [a for a in top.menu().actions() if a.text().replace("&", "") == entry]
    assert action.isVisible() and action.isEnabled()
    action.trigger()


def test_a_simulated_incoming_call_lands_in_waiting(qtbot, hold_routes, session):
    window = session.window
    qtbot.waitUntil(lambda: window.actions.simulate.isVisible(), timeout=WAIT)  # sandbox mode
    qtbot.waitUntil(lambda: len(window.numbers) >= 2, timeout=WAIT)
    open_from_menu(qtbot, window, "Calls", "Simulate incoming call…")
    dialog = window.findChild(QDialog, "simulate-call")
    qtbot.waitUntil(dialog.isVisible)
    caller = by_name(dialog, "Caller's number", QLineEdit)
    caller.clear()
    qtbot.keyClicks(caller, "+44 20 7183 8750")
    number = by_name(dialog, "Number called", QComboBox)
    number.setCurrentIndex(number.findData("+15005550007"))
    qtbot.mouseClick(by_name(dialog, "Ring", QPushButton), Qt.MouseButton.LeftButton)
    model = window.routing.waiting_model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT)
    (caller_waiting,) = model.records()
    assert (caller_waiting.from_, caller_waiting.to) == ("+442071838750", "+15005550007")
    assert window.windowTitle() == "Switchboard — 1 waiting"
    assert any("now rings this console's webhook" in line for line in window.event_log.lines())


def test_a_bad_callers_number_keeps_ring_disabled(qtbot, session):
    window = session.window
    qtbot.waitUntil(lambda: len(window.numbers) >= 2, timeout=WAIT)
    window.dialogs.simulate_call()
    dialog = window.findChild(QDialog, "simulate-call")
    qtbot.waitUntil(dialog.isVisible)
    caller = by_name(dialog, "Caller's number", QLineEdit)
    caller.clear()
    qtbot.keyClicks(caller, "+99")
    assert not by_name(dialog, "Ring", QPushButton).isEnabled()
    assert by_name(dialog, "Simulate error").text()


def test_sandbox_details_show_url_sid_and_token_with_copy(qtbot, session):
    window = session.window
    qtbot.waitUntil(lambda: window.actions.sandbox_details.isVisible(), timeout=WAIT)
    open_from_menu(qtbot, window, "Help", "Sandbox details…")
    dialog = window.findChild(QDialog, "about")
    qtbot.waitUntil(dialog.isVisible)
    runtime = session.runtime
    token = runtime.gateway._client.password
    assert by_name(dialog, "Sandbox URL", QLineEdit).text() == runtime.sandbox_url
    assert by_name(dialog, "Sandbox Account SID", QLineEdit).text() == runtime.account_sid
    assert by_name(dialog, "Sandbox Auth Token", QLineEdit).text() == token
    qtbot.mouseClick(
        by_name(dialog, "Copy Sandbox Auth Token", QPushButton), Qt.MouseButton.LeftButton
    )
    assert QGuiApplication.clipboard().text() == token
    example = by_name(dialog, "Sandbox curl example", QPlainTextEdit).toPlainText()
    assert "--data-urlencode From=+14155550100" in example


def readme_incoming_call_command() -> str:
    """The README's curl command that simulates a call, as printed (continuations joined)."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^ *curl [^\n]*/sandbox/IncomingCalls \\\n[^\n]*$", text, re.MULTILINE)
    assert match, "the README has no IncomingCalls example"
    return match.group(0).replace("\\\n", " ")


def test_the_readmes_curl_example_works_as_printed(qtbot, hold_routes, session):
    """A + in a form value must be URL-encoded, or the sandbox reads a space."""
    runtime = session.runtime
    line = next(n for n in runtime.gateway.list_numbers() if n.number == "+15005550006")
    public = runtime.public_url
    runtime.gateway.set_voice_url(line.sid, f"{public}/voice/incoming", f"{public}/voice/status")
    command = readme_incoming_call_command().replace("http://127.0.0.1:8079", runtime.sandbox_url)
    env = {**os.environ, "SID": runtime.account_sid, "TOKEN": runtime.gateway._client.password}
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    model = session.window.routing.waiting_model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT)
    assert model.records()[0].from_ == "+15557654321"
