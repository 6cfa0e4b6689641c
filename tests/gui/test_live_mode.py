"""Live mode: the window on the operator's own account (a sandbox started elsewhere stands in)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel

from console.app import open_console
from sandbox import Sandbox, SandboxServer
from tests.gui.test_console_window import WAIT, dial_in, people
from tests.helpers.widgets import by_name


@pytest.fixture
def remote_sandbox() -> Iterator[SandboxServer]:
    """A sandbox the console did not start, as `switchboard sandbox` would run it."""
    box = Sandbox(ring_delay=0.05)
    server = SandboxServer(box)
    server.start()
    yield server
    server.stop()
    box.close()


def live_console(qtbot, preferences, secrets):
    preferences.webhook_port = 0
    console = open_console(preferences, secrets, os.environ)
    qtbot.addWidget(console.window)
    console.window.show()
    return console


def test_credentials_from_the_environment_mean_live_mode(
    qtbot, monkeypatch, preferences, secrets, remote_sandbox
):
    box = remote_sandbox.sandbox
    monkeypatch.setenv("SWITCHBOARD_TWILIO_URL", remote_sandbox.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", box.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", box.auth_token)
    console = live_console(qtbot, preferences, secrets)
    try:
        assert console.runtime.mode == "live"
        mode = by_name(console.window, "Mode", QLabel)
        # The account's friendly name, not a cut-off SID; the SID is in the tooltip.
        qtbot.waitUntil(lambda: "Live · Switchboard sandbox" in mode.text(), timeout=WAIT)
        assert box.account_sid in mode.toolTip()
        dial_in(qtbot, console, "+15551234567", "DailyStandup", "alice")
        qtbot.waitUntil(lambda: people(console) == [("alice", "connected")], timeout=WAIT)
        assert box.auth_token not in "\n".join(console.window.event_log.lines())
    finally:
        console.window.close()
        assert console.shutdown()


def test_a_wrong_token_is_reported_in_words_with_twilios_code(
    qtbot, monkeypatch, preferences, secrets, remote_sandbox
):
    box = remote_sandbox.sandbox
    monkeypatch.setenv("SWITCHBOARD_TWILIO_URL", remote_sandbox.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", box.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "f" * 32)
    console = live_console(qtbot, preferences, secrets)
    try:
        log = console.window.event_log
        qtbot.waitUntil(lambda: any("20003" in line for line in log.lines()), timeout=WAIT)
        shown = console.window.statusBar().currentMessage()
        assert "Could not" in shown and "20003" in shown
        assert "f" * 32 not in "\n".join(log.lines())
    finally:
        console.window.close()
        assert console.shutdown()


def test_sandbox_flag_wins_over_credentials(qtbot, monkeypatch, preferences, secrets):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "0" * 32)
    preferences.webhook_port = 0
    console = open_console(preferences, secrets, os.environ, force_sandbox=True)
    qtbot.addWidget(console.window)
    try:
        assert console.runtime.mode == "sandbox"
    finally:
        console.window.close()
        assert console.shutdown()
