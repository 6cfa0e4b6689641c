"""Binding: every server Switchboard starts listens on loopback only, unless told otherwise.

The address is read from the kernel's own table of listening sockets (/proc/net/tcp and tcp6),
not from what the program says about itself.
"""

from __future__ import annotations

import socket

import pytest

from console.app import open_console
from sandbox import Sandbox, SandboxServer
from tests.helpers.proc_net import HAS_PROC_NET, listening_on, listening_sockets_of
from tests.helpers.processes import RunningCommand
from webhook import WebhookServer, create_app

pytestmark = pytest.mark.skipif(
    not HAS_PROC_NET, reason="reads listening sockets from Linux /proc/net"
)
TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00"


def test_listening_sockets_are_read_right():
    outside = socket.create_server(("127.0.0.2", 0))
    try:
        assert listening_on(outside.getsockname()[1]) == {"127.0.0.2"}
    finally:
        outside.close()


def test_webhook_server_binds_loopback_by_default():
    server = WebhookServer(create_app({"AUTH_TOKEN": TOKEN}))
    port = server.start()
    try:
        assert listening_on(port) == {"127.0.0.1"}
    finally:
        server.stop()
    assert listening_on(port) == set()  # and stop() really let go of it


def test_webhook_server_binds_where_told():
    server = WebhookServer(create_app({"AUTH_TOKEN": TOKEN}), host="127.0.0.3")
    port = server.start()
    try:
        assert listening_on(port) == {"127.0.0.3"}
    finally:
        server.stop()


def test_sandbox_server_binds_loopback_by_default():
    box = Sandbox()
    server = SandboxServer(box)
    port = server.start()
    try:
        assert listening_on(port) == {"127.0.0.1"}
    finally:
        server.stop()
        box.close()


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        (("webhook", "--port", "0"), r"Webhook listening on http://[^:]+:(\d+)"),
        (("sandbox", "--port", "0"), r"Sandbox listening on http://[^:]+:(\d+)"),
    ],
)
def test_commands_bind_loopback_unless_told_otherwise(command, pattern):
    for extra, expected in (((), "127.0.0.1"), (("--host", "127.0.0.4"), "127.0.0.4")):
        running = RunningCommand(*command, *extra, env={"TWILIO_AUTH_TOKEN": TOKEN})
        try:
            port = int(running.wait_for_line(pattern).group(1))
            assert listening_on(port) == {expected}
        finally:
            assert running.terminate() == 0
        assert TOKEN not in "\n".join(running.lines)  # the token from the environment: unsaid


def test_the_consoles_webhook_and_sandbox_bind_loopback(qtbot, preferences, secrets):
    preferences.webhook_port = 0
    session = open_console(preferences, secrets, {}, force_sandbox=True, ring_delay=0.05)
    qtbot.addWidget(session.window)
    try:
        runtime = session.runtime
        assert runtime.webhook.host == "127.0.0.1"
        assert listening_on(int(runtime.webhook.port)) == {"127.0.0.1"}
        sandbox_port = int(runtime.sandbox_url.rsplit(":", 1)[1])
        assert listening_on(sandbox_port) == {"127.0.0.1"}
    finally:
        session.window.close()
        assert session.shutdown()


def test_the_switchboard_window_process_listens_on_loopback_only(user_dirs):
    """The console as the operator starts it: every socket the process listens on."""
    config = user_dirs.config / "Switchboard" / "Switchboard.conf"  # its Preferences.default()
    config.parent.mkdir(parents=True)
    config.write_text("[webhook]\nport=0\n", encoding="utf-8")
    running = RunningCommand(
        "--sandbox",
        env={
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        },
    )
    try:
        url = running.wait_for_line(r"Switchboard ready: sandbox mode, webhook (\S+)", 60).group(1)
        sockets = listening_sockets_of(running.process.pid)
        assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
        ports = {port for _, port in sockets}
        assert int(url.rsplit(":", 1)[1]) in ports
        assert len(ports) >= 2  # the webhook and the sandbox
    finally:
        running.terminate(20)
