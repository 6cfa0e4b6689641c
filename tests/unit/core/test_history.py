"""The call history: WAL file in the data dir, idempotent statuses, search, CSV, and kill -9."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from console.core.calls.history import (
    CSV_COLUMNS,
    SCHEMA_VERSION,
    CallHistory,
    HistoryError,
    default_path,
)
from console.core.calls.records import Call
from webhook.events import CallStatusEvent

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def outbound(sid: str, to: str = "+15551234567", **extra) -> Call:
    fields = {"room": "Standup", "identity": "bob", "status": "queued"} | extra
    return Call(sid=sid, to=to, from_="+15005550006", direction="outbound-api", **fields)


@pytest.fixture
def history(tmp_path: Path):
    with CallHistory(tmp_path / "history.sqlite3") as opened:
        yield opened


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


def test_a_call_and_its_statuses(history: CallHistory):
    history.record_call(outbound("CA1"), created_at=at(0))
    assert history.record_status("CA1", "ringing", at(1), sequence=1)
    assert history.record_status("CA1", "in-progress", at(3), sequence=2)
    assert history.record_status("CA1", "completed", at(65), duration=62, sequence=3)
    (entry,) = history.search()
    assert (entry.sid, entry.to, entry.room, entry.identity) == (
        "CA1",
        "+15551234567",
        "Standup",
        "bob",
    )
    assert (entry.status, entry.final_status, entry.duration) == ("completed", "completed", 62)
    assert entry.created_at == at(0)
    statuses = history.statuses_of("CA1")
    assert [(s.status, s.at, s.sequence) for s in statuses] == [
        ("queued", at(0), None),
        ("ringing", at(1), 1),
        ("in-progress", at(3), 2),
        ("completed", at(65), 3),
    ]


def test_duplicate_and_late_callbacks_change_nothing(history: CallHistory):
    history.record_call(outbound("CA1"), created_at=at(0))
    history.record_status("CA1", "ringing", at(1), sequence=1)
    history.record_status("CA1", "busy", at(20), duration=0, sequence=2)
    assert not history.record_status("CA1", "busy", at(21), duration=0, sequence=2)
    assert not history.record_status("CA1", "ringing", at(22), sequence=1)
    history.record_status("CA1", "completed", at(23), duration=9)  # a second final: ignored
    history.record_status("CA1", "queued", at(24))  # a late early status: no step back
    (entry,) = history.search()
    assert (entry.status, entry.final_status, entry.duration) == ("busy", "busy", 0)
    assert [s.status for s in history.statuses_of("CA1")] == [
        "queued",
        "ringing",
        "busy",
        "completed",
    ]


def test_callbacks_before_the_call_is_recorded(history: CallHistory):
    history.record_status("CA9", "ringing", at(2), sequence=1)
    history.record_call(outbound("CA9", status="queued"), created_at=at(1))
    (entry,) = history.search()
    assert (entry.to, entry.room, entry.status, entry.created_at) == (
        "+15551234567",
        "Standup",
        "ringing",
        at(1),
    )


def test_webhook_events_record_received_calls_with_errors(history: CallHistory):
    def event(**fields: str) -> CallStatusEvent:
        base = {"CallSid": "CA7", "From": "+15557654321", "To": "+15005550006"}
        return CallStatusEvent(base | {"Direction": "inbound"} | fields)

    stamp = format_datetime(at(5), usegmt=True)
    assert history.record_event(event(CallStatus="ringing", SequenceNumber="0", Timestamp=stamp))
    assert not history.record_event(event(CallStatus="ringing", SequenceNumber="0"))
    final = event(
        CallStatus="failed",
        SequenceNumber="1",
        CallDuration="0",
        ErrorCode="11200",
        ErrorMessage="HTTP retrieval failure",
    )
    assert history.record_event(final, room="Lobby")
    (entry,) = history.search(direction="inbound")
    assert (entry.from_, entry.to, entry.room) == ("+15557654321", "+15005550006", "Lobby")
    assert (entry.final_status, entry.error_code, entry.error_message) == (
        "failed",
        "11200",
        "HTTP retrieval failure",
    )
    assert history.statuses_of("CA7")[0].at == at(5)
    assert not history.record_event(CallStatusEvent({"CallStatus": "ringing"}))  # no CallSid


def test_an_error_code_learnt_later_is_kept(history: CallHistory):
    history.record_call(outbound("CA1"), created_at=at(0))
    history.record_status("CA1", "failed", at(2))
    history.record_status("CA1", "failed", at(3), error_code="32009", error_message="SIP")
    (entry,) = history.search()
    assert (entry.final_status, entry.error_code) == ("failed", "32009")


def test_search_filters_and_orders_newest_first(history: CallHistory):
    history.record_call(outbound("CA1", to="+15550000001", identity="alice"), created_at=at(0))
    history.record_call(
        outbound("CA2", to="sip:carol@example.com", identity="carol"),
        display_name="Carol 100%",
        created_at=at(10),
    )
    history.record_call(outbound("CA3", to="+15550000003", room="Ops"), created_at=at(20))
    history.record_status("CA1", "no-answer", at(70))
    history.record_status("CA3", "busy", at(25))
    inbound = Call("CA4", "+15005550006", "+15557654321", "ringing", "inbound")
    history.record_call(inbound, created_at=at(30))

    def sids(**query) -> list[str]:
        return [entry.sid for entry in history.search(**query)]

    assert sids() == ["CA4", "CA3", "CA2", "CA1"]
    assert sids(text="alice") == ["CA1"]
    assert sids(text="ops") == ["CA3"]  # case-insensitive
    assert sids(text="0000003") == ["CA3"]
    assert sids(text="100%") == ["CA2"]
    assert sids(text="%") == ["CA2"]  # a literal %, not a wildcard
    assert sids(text="_") == []
    assert sids(status="busy") == ["CA3"]
    assert sids(status=["busy", "no-answer"]) == ["CA3", "CA1"]
    assert sids(direction="outbound") == ["CA3", "CA2", "CA1"]
    assert sids(direction="inbound") == ["CA4"]
    assert sids(since=at(10)) == ["CA4", "CA3", "CA2"]
    assert sids(limit=2) == ["CA4", "CA3"]
    assert sids(limit=None, text="+1555000") == ["CA3", "CA1"]


def test_csv_export_round_trips_and_defuses_formulas(history: CallHistory):
    history.record_call(
        outbound("CA1", identity="=HYPERLINK(1)"), display_name="@bob", created_at=at(0)
    )
    history.record_status("CA1", "completed", at(9), duration=7)
    buffer = io.StringIO(newline="")
    assert history.export_csv(history.search(), buffer) == 1
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["sid"], row["from"], row["to"]) == ("CA1", "+15005550006", "+15551234567")
    assert (row["identity"], row["display_name"]) == ("'=HYPERLINK(1)", "'@bob")
    assert (row["status"], row["duration"]) == ("completed", "7")
    assert datetime.fromisoformat(row["created_at"]) == at(0)


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


def test_a_large_export_reads_the_calls_a_batch_at_a_time(tmp_path: Path):
    """`switchboard history --csv` of a year's calls: every call once, newest first, written as
    read, so memory stays near one batch instead of the whole history several times over."""
    import tracemalloc

    path = tmp_path / "history.sqlite3"
    CallHistory(path).close()
    count = 60_000
    raw = sqlite3.connect(path)
    with raw:
        raw.executemany(
            'INSERT INTO calls (sid, direction, from_, "to", room, identity, created_at, status) '
            "VALUES (?, 'outbound-api', '+15005550006', ?, ?, ?, ?, 'completed')",
            (
                (f"CA{n:032x}", f"+1555{n:07d}", f"Room {n % 50}", f"user{n}", at(n).isoformat())
                for n in range(count)
            ),
        )
    raw.close()
    out = tmp_path / "export.csv"
    with CallHistory(path) as history, out.open("w", newline="", encoding="utf-8") as file:
        tracemalloc.start()
        try:
            written = history.export_csv(history.each_entry(), file)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert [e.sid for e in history.each_entry(limit=5)] == [
            e.sid for e in history.search(limit=5)
        ]
    size = out.stat().st_size
    assert written == count
    with out.open(encoding="utf-8") as file:
        rows = csv.reader(file)
        assert next(rows) == list(CSV_COLUMNS)
        assert next(rows)[0] == f"CA{count - 1:032x}"  # newest first
        assert sum(1 for _ in rows) == count - 1
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"
