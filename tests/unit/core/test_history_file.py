"""The desktop history as a file: WAL in the data dir, threads, damage, kill -9, upgrades.

What the history answers (record, search, statuses, export) is tested on SQLite and PostgreSQL
alike in test_history.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.core.calls import history_schema
from console.core.calls.history import (
    SCHEMA_VERSION,
    CallHistory,
    HistoryError,
    default_path,
)
from console.core.calls.records import Call
from tests.helpers.old_history import sid_of, write_version_1

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def outbound(sid: str, to: str = "+15551234567", **extra) -> Call:
    fields = {"room": "Standup", "identity": "bob", "status": "queued"} | extra
    return Call(sid=sid, to=to, from_="+15005550006", direction="outbound-api", **fields)


def test_default_path_is_in_the_platformdirs_data_dir(user_dirs):
    assert default_path() == user_dirs.data / "switchboard" / "history.sqlite3"
    with CallHistory() as history:
        history.record_call(outbound("CA1"), created_at=T0)
    assert default_path().is_file()


def test_file_is_wal_with_a_schema_version(tmp_path: Path):
    path = tmp_path / "deep" / "dir" / "history.sqlite3"
    CallHistory(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"calls", "call_statuses"} <= tables
    raw.close()


def test_threads_and_a_second_connection_write_together(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    first, second = CallHistory(path), CallHistory(path)
    errors: list[BaseException] = []

    def write(history: CallHistory, prefix: str) -> None:
        try:
            for n in range(40):
                history.record_call(outbound(f"CA{prefix}{n}"), created_at=at(n))
                history.record_status(f"CA{prefix}{n}", "ringing", at(n + 1), sequence=1)
                history.search(limit=5)
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(history, prefix))
        for history, prefix in ((first, "a"), (first, "b"), (second, "c"), (second, "d"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(first.search(limit=None)) == 160
    assert {entry.status for entry in second.search(limit=None)} == {"ringing"}
    first.close()
    second.close()


def test_a_file_that_is_not_a_database_is_reported_and_kept(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    garbage = b"this is not SQLite, it is a shopping list\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(HistoryError) as error:
        CallHistory(path)
    assert str(path) in str(error.value)
    assert "left as it is" in str(error.value)
    assert path.read_bytes() == garbage


def test_a_history_from_a_newer_version_is_refused(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(HistoryError, match="newer Switchboard"):
        CallHistory(path)


def test_an_unwritable_place_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(HistoryError, match="Cannot open the call history"):
        CallHistory(blocker / "history.sqlite3")


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from console.core.calls.history import CallHistory
    from console.core.calls.records import Call

    history = CallHistory(sys.argv[1])
    n = 0
    while True:
        sid = f"CA{n:032d}"
        history.record_call(Call(sid, "+15551234567", "+15005550006", "queued", "outbound-api"))
        history.record_status(sid, "ringing", datetime.now(UTC), sequence=1)
        print(sid, flush=True)  # acknowledged: both writes returned
        n += 1
    """
)


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path):
    path = tmp_path / "history.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline().strip() for _ in range(300)]
    os.kill(writer.pid, signal.SIGKILL)  # mid-stream: it is writing the next rows right now
    rest, _ = writer.communicate(timeout=10)
    acknowledged += rest.split()
    assert writer.returncode == -signal.SIGKILL
    assert (tmp_path / "history.sqlite3-wal").stat().st_size > 0  # rows still in the WAL
    with CallHistory(path) as reopened:
        kept = {entry.sid: entry for entry in reopened.search(limit=None)}
        assert set(acknowledged) <= set(kept)
        assert all(kept[sid].status == "ringing" for sid in acknowledged)
        assert all(len(reopened.statuses_of(sid)) == 2 for sid in acknowledged)


def test_an_old_history_is_upgraded_in_place_saying_how_far_it_is(tmp_path, monkeypatch, caplog):
    path = tmp_path / "history.sqlite3"
    calls = 2_500
    write_version_1(path, calls)
    monkeypatch.setattr(history_schema, "UPGRADE_BATCH", 1_000)
    heard: list[tuple[int, int]] = []
    with caplog.at_level("INFO"), CallHistory(path, progress=lambda *p: heard.append(p)) as h:
        assert heard == [(0, calls), (1_000, calls), (2_000, calls), (calls, calls)]
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        raw.close()
        assert len(h.search(limit=None)) == calls
        for n in range(calls):  # every call, found by the index (its text is rare) and no other
            assert [e.sid for e in h.search(text=f"Room {n:05d}")] == [sid_of(n)]
        assert [e.sid for e in h.search(text=f"zoË {calls - 1}")] == [sid_of(calls - 1)]
        assert len(h.search(text="MITARBEITER", limit=None)) == calls  # common: read in order
        assert [(s.status, s.sequence) for s in h.statuses_of(sid_of(42))] == [
            ("queued", 0), ("ringing", 1), ("completed", 2)
        ]  # fmt: skip
        h.record_call(Call("CA1", "+15551230000", "+15005550006", "queued", "outbound-api",
                           room="Afterwards"))  # fmt: skip
        assert [e.sid for e in h.search(text="afterwards")] == ["CA1"]  # the triggers index it
    said = [r.getMessage() for r in caplog.records if "building the text search index" in r.message]
    assert said[0].endswith(f"0 of {calls} calls (0%)")
    assert said[-1].endswith(f"{calls} of {calls} calls (100%)")
    assert 3 <= len(said) <= 11  # every ten percent or so, not every batch of a million calls


def test_an_upgrade_cut_short_leaves_the_history_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite3"
    write_version_1(path, 300)
    monkeypatch.setattr(history_schema, "UPGRADE_BATCH", 100)

    def stop(done: int, total: int) -> None:
        if done >= 200:
            raise KeyboardInterrupt  # the operator quits mid-upgrade

    with pytest.raises(KeyboardInterrupt):
        CallHistory(path, progress=stop)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    assert raw.execute("SELECT count(*) FROM calls").fetchone()[0] == 300
    assert raw.execute("SELECT count(*) FROM call_statuses").fetchone()[0] == 900
    assert raw.execute("SELECT name FROM sqlite_master WHERE name = 'calls_text'").fetchall() == []
    raw.close()
    with CallHistory(path) as again:  # the next start upgrades it whole
        assert [e.sid for e in again.search(text="Room 00299")] == [sid_of(299)]


def test_a_new_history_reports_no_upgrade(tmp_path):
    heard: list[tuple[int, int]] = []
    with CallHistory(tmp_path / "history.sqlite3", progress=lambda *p: heard.append(p)):
        pass
    assert heard == []
