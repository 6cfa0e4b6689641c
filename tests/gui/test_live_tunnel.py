"""Live mode behind a tunnel: the console finds the agent's tunnel, checks it, dials through it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton

from console.app import open_console
from tests.gui.test_console_window import WAIT, _button, _question, dial_in, fill, people
from tests.gui.test_live_mode import remote_sandbox  # noqa: F401 - a fixture
from tests.helpers.ngrok_agent_stub import AgentApiStub
from tests.helpers.tunnel_proxy import TunnelProxy
from tests.helpers.tunneled_webhook import free_port
from tests.helpers.widgets import by_name


@pytest.fixture
def tunnel(preferences) -> Iterator[tuple[AgentApiStub, TunnelProxy]]:
    """An ngrok agent API stand-in listing a tunnel (a loopback proxy) to the webhook's port."""
    port = free_port()
    preferences.webhook_port = port
    proxy = TunnelProxy(port)
    agent = AgentApiStub()
    agent.add_tunnel(proxy.url, f"http://localhost:{port}", proto="http")
    preferences.tunnel_provider = "agent"
    preferences.ngrok_api_url = agent.url
    yield agent, proxy
    agent.stop()
    proxy.stop()


@pytest.fixture
def live(qtbot, monkeypatch, preferences, secrets, remote_sandbox, tunnel):  # noqa: F811
    box = remote_sandbox.sandbox
    monkeypatch.setenv("SWITCHBOARD_TWILIO_URL", remote_sandbox.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", box.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", box.auth_token)
    console = open_console(preferences, secrets, os.environ)
    qtbot.addWidget(console.window)
    console.window.show()
    yield console
    console.window.close()
    assert console.shutdown()


def test_calls_are_created_with_the_tunnels_public_url(qtbot, live, tunnel):
    _, proxy = tunnel
    assert live.runtime.public_url == proxy.url
    health = by_name(live.window, "Webhook health", QLabel)
    qtbot.waitUntil(lambda: "healthy" in health.text(), timeout=WAIT)
    assert proxy.url in by_name(live.window, "Webhook URL", QLabel).text()
    dial_in(qtbot, live, "+15551234567", "DailyStandup", "alice")
    qtbot.waitUntil(lambda: people(live) == [("alice", "connected")], timeout=WAIT)
    paths = [path for _, path in proxy.forwarded]
    assert any(p.startswith("/voice/outbound?room=DailyStandup") for p in paths)


def test_a_dropped_tunnel_turns_red_and_dialing_asks_first(qtbot, live, tunnel):
    _, proxy = tunnel
    health = by_name(live.window, "Webhook health", QLabel)
    qtbot.waitUntil(lambda: "healthy" in health.text(), timeout=WAIT)
    proxy.drop()
    live.window.health.check_now()  # the minute timer, without waiting a minute
    qtbot.waitUntil(lambda: "tunnel down" in health.text(), timeout=WAIT)
    fill(qtbot, live.window, "+15551234567", "DailyStandup", "bob")
    qtbot.mouseClick(by_name(live.window, "Dial", QPushButton), Qt.MouseButton.LeftButton)
    box: QMessageBox = _question(qtbot, live.window, "webhook-unreachable")
    qtbot.mouseClick(_button(box, "Cancel"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: by_name(live.window, "Dial", QPushButton).isEnabled())
    assert live.controller.calls_model.rowCount() == 0
    proxy.restore()
    live.window.health.check_now()
    qtbot.waitUntil(lambda: "healthy" in health.text(), timeout=WAIT)
