"""`switchboard sandbox` and `switchboard webhook` as real processes, driven only by the SDK."""

from __future__ import annotations

import time

from console.core.gateways.twilio_http import make_client
from tests.helpers import wait_until
from tests.helpers.openapi_check import ValidatingHttpClient
from tests.helpers.processes import RunningCommand

SID = "AC" + "ab" * 16
TOKEN = "0123456789abcdef" * 2


def test_sandbox_and_webhook_commands_dial_alice_in_within_two_seconds():
    sandbox = RunningCommand(
        "sandbox",
        "--port",
        "0",
        "--ring-delay",
        "0.2",
        env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN},
    )
    webhook = RunningCommand("webhook", "--port", "0", env={"TWILIO_AUTH_TOKEN": TOKEN})
    try:
        url = sandbox.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        assert sandbox.wait_for_line(r"Account SID: (AC\w+)").group(1) == SID
        sandbox.wait_for_line(r"Auth Token: \(taken from TWILIO_AUTH_TOKEN, not shown\)")
        assert not any(TOKEN in line for line in sandbox.lines)
        sandbox.wait_for_line(rf"export SWITCHBOARD_TWILIO_URL={url}")
        hook = webhook.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        webhook.wait_for_line(rf"Public URL: {hook}")

        client = make_client(SID, TOKEN, env={"SWITCHBOARD_TWILIO_URL": url})
        client.http_client = ValidatingHttpClient(url)
        client.video.v1.rooms.create(unique_name="R", type="group")
        started = time.monotonic()
        client.calls.create(
            to="+15551234567",
            from_="+15005550006",
            url=f"{hook}/voice/outbound?room=R&identity=alice",
        )
        alice = wait_until(
            lambda: client.video.v1.rooms("R").participants.list(identity="alice"), timeout=2
        )
        assert alice[0].status == "connected"
        assert time.monotonic() - started < 2
    finally:
        assert sandbox.terminate() == 0
        webhook.terminate()
    sandbox.wait_for_line(r"^Sandbox stopped\.$")


def test_sandbox_command_makes_up_credentials_and_reports_a_taken_port():
    first = RunningCommand("sandbox", "--port", "0", env={"TWILIO_ACCOUNT_SID": ""})
    try:
        port = first.wait_for_line(r"listening on http://127\.0\.0\.1:(\d+)").group(1)
        first.wait_for_line(r"Account SID: AC[0-9a-f]{32}$")
        first.wait_for_line(r"Auth Token: [0-9a-f]{32}$")
        second = RunningCommand("sandbox", "--port", port)
        second.wait_for_line(rf"Port {port} .* already in use")
        assert second.process.wait(10) == 1
    finally:
        assert first.terminate() == 0
