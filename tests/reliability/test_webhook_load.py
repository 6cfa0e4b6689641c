"""Load: 200 concurrent Twilio-like clients for 20 s against the console's own webhook.

A whole console session (sandbox mode, window shown) serves the load on its embedded webhook.
Every leg fetches its TwiML on a keep-alive connection and posts a signed status callback; each
must be answered (no errors at all), and each callback must reach the console's event consumer
(the EventBridge, whose signal the GUI thread receives) exactly once, and the call history.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot

from console.app import open_console
from webhook.events import CallStatusEvent

CLIENTS = 200
SECONDS = 20
STATUSES = ("initiated", "ringing", "in-progress", "completed")  # by SequenceNumber
ROOT = Path(__file__).resolve().parents[2]


class Tally(QObject):
    """Counts the callbacks the GUI thread hears about, by (CallSid, SequenceNumber)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[tuple[str, str]] = Counter()

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        self.seen[(event.call_sid, event.get("SequenceNumber"))] += 1

    def total(self) -> int:
        return sum(self.seen.values())


def run_clients(tmp_path: Path, qtbot, webhook_url: str, public_url: str, token: str) -> dict:
    """The clients in a process of their own (Twilio is another computer); their report."""
    output, errors = tmp_path / "load.json", tmp_path / "load.err"
    command = [sys.executable, "-m", "tests.reliability.load_clients", webhook_url, public_url]
    with output.open("w") as out, errors.open("w") as err:
        clients = subprocess.Popen(
            [*command, token, str(CLIENTS), str(SECONDS)], stdout=out, stderr=err, cwd=ROOT
        )
        try:  # the GUI thread keeps turning meanwhile: the bridge's signals arrive there
            qtbot.waitUntil(lambda: clients.poll() is not None, timeout=(SECONDS + 60) * 1000)
        finally:
            if clients.poll() is None:
                clients.kill()
                clients.wait(10)
    assert clients.returncode == 0, errors.read_text()
    return json.loads(output.read_text())


@pytest.mark.slow
def test_200_clients_for_20_seconds_every_callback_once(qtbot, tmp_path, preferences, secrets):
    preferences.webhook_port = 0
    session = open_console(preferences, secrets, {}, force_sandbox=True, ring_delay=0.05)
    qtbot.addWidget(session.window)
    session.window.show()
    tally = Tally()
    session.bridge.call_status_received.connect(tally.on_bridge_call_status)
    runtime = session.runtime
    try:
        token = runtime.gateway._client.password  # the sandbox's own test token
        result = run_clients(tmp_path, qtbot, runtime.webhook.local_url, runtime.public_url, token)
        per_client = result["clients"]
        errors = [e for c in per_client.values() for e in c["errors"]]
        acknowledged = Counter(tuple(p) for c in per_client.values() for p in c["acknowledged"])

        assert errors == [], f"{len(errors)} errors, e.g. {errors[:5]}"
        assert result["unfinished"] == 0
        assert len(per_client) == CLIENTS
        # All 200 really were at it together, from the start to the end of the 20 s.
        began, ended = result["began"], result["ended"]
        assert ended - began >= SECONDS
        assert all(c["first"] - began < 5 for c in per_client.values())
        assert all(began + SECONDS - c["last"] < 5 for c in per_client.values())
        assert set(acknowledged.values()) == {1}  # every callback was sent once

        qtbot.waitUntil(lambda: tally.total() >= len(acknowledged), timeout=60_000)
        assert tally.seen == acknowledged  # each one heard exactly once, none invented
        expected: dict[str, set[str]] = {}
        for sid, sequence in acknowledged:
            expected.setdefault(sid, set()).add(STATUSES[int(sequence)])
        history = runtime.history
        recorded = {sid: {s.status for s in history.statuses_of(sid)} for sid in expected}
        assert recorded == expected  # and each one is in the call history
        print(f"{len(acknowledged)} callbacks from {CLIENTS} clients in {ended - began:.1f} s")
    finally:
        session.window.close()
        assert session.shutdown()
