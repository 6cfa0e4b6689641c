"""Crash safety of the call history, beyond tests/unit/test_history.py.

tests/unit/test_history.py::test_kill_9_loses_no_acknowledged_write already kills one writer with
SIGKILL mid-stream (rows still in the WAL) and finds every acknowledged row after reopening. This
adds what it leaves out: the console's two writers at once (the dial worker recording calls, the
webhook's delivery thread recording callbacks), one crash after another on the same file (each
reopening recovers the last crash's WAL), and SQLite's own integrity check after each crash.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from console.core.calls.history import CallHistory

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 5
WRITER = textwrap.dedent(
    """
    import sys
    import threading
    from console.core.calls.history import CallHistory
    from console.core.calls.records import Call
    from webhook.events import CallStatusEvent

    history = CallHistory(sys.argv[1])
    crash = sys.argv[2]
    said = threading.Lock()

    def acknowledge(kind, sid):
        with said:
            print(kind, sid, flush=True)  # only after the write returned

    def callbacks():  # the webhook's delivery thread
        n = 0
        while True:
            sid = f"CB{crash}{n:031d}"
            fields = {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "1",
                      "From": "+15551230000", "To": "+15005550006", "Direction": "inbound"}
            history.record_event(CallStatusEvent(fields))
            acknowledge("event", sid)
            n += 1

    threading.Thread(target=callbacks, daemon=True).start()
    n = 0
    while True:  # the dial worker
        sid = f"CA{crash}{n:031d}"
        history.record_call(Call(sid, "+15551234567", "+15005550006", "queued", "outbound-api"))
        acknowledge("call", sid)
        n += 1
    """
)


def crash_writer(path: Path, crash: int, after: int) -> dict[str, str]:
    """Run the writers, SIGKILL them after `after` acknowledgements; {sid: kind} acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(crash)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert writer.stdout is not None
    lines = [writer.stdout.readline() for _ in range(after)]
    os.kill(writer.pid, signal.SIGKILL)  # both threads are writing the next rows right now
    rest, _ = writer.communicate(timeout=20)
    assert writer.returncode == -signal.SIGKILL
    acknowledged = {}
    for line in [*lines, *rest.splitlines()]:
        kind, sid = line.split()
        acknowledged[sid] = kind
    return acknowledged


def test_crash_after_crash_with_two_writers_keeps_every_acknowledged_row(tmp_path):
    path = tmp_path / "history.sqlite3"
    choose = random.Random(20260301)
    acknowledged: dict[str, str] = {}
    for crash in range(ROUNDS):
        acknowledged |= crash_writer(path, crash, after=choose.randint(50, 400))
        assert Path(f"{path}-wal").stat().st_size > 0  # the crash left rows in the WAL
        raw = sqlite3.connect(path)  # a plain connection: recovers the WAL, checks every page
        try:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            raw.close()
        with CallHistory(path) as reopened:
            kept = {entry.sid: entry for entry in reopened.search(limit=None)}
            missing = [sid for sid in acknowledged if sid not in kept]
            assert missing == [], f"crash {crash}: {len(missing)} acknowledged rows lost"
            for sid, kind in acknowledged.items():
                expected = "queued" if kind == "call" else "ringing"
                assert kept[sid].status == expected, (sid, kept[sid])
    kinds = set(acknowledged.values())
    assert kinds == {"call", "event"}  # both writers really wrote
