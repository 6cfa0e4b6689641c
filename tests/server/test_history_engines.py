"""One history suite, two engines: the desktop's SQLite file and the team's PostgreSQL."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit, urlunsplit

import pytest

from console.core.calls import history as history_module
from console.core.calls.history import CSV_COLUMNS, CallHistory, HistoryStore
from console.core.calls.records import Call
from server.call_store import PostgresHistory
from tests.server.conftest import ACCOUNT
from webhook.events import CallStatusEvent

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def outbound(sid: str, to: str = "+15551234567", **extra) -> Call:
    fields = {"room": "Standup", "identity": "bob", "status": "queued"} | extra
    return Call(sid=sid, to=to, from_="+15005550006", direction="outbound-api", **fields)


@pytest.fixture(params=["sqlite", "sqlite-common-text", "postgresql"])
def store(request, tmp_path, monkeypatch) -> HistoryStore:
    """The history on each engine (SQLite also with every text counted as common)."""
    if request.param.startswith("sqlite"):
        if request.param == "sqlite-common-text":  # read newest first, match row by row
            monkeypatch.setattr(history_module, "FTS_CANDIDATES", 0)
        history = CallHistory(tmp_path / "history.sqlite3")
        yield history
        history.close()
    else:
        yield PostgresHistory(request.getfixturevalue("database"), ACCOUNT)


def test_statuses_move_forward_only_and_duplicates_change_nothing(store: HistoryStore):
    store.record_call(outbound("CA1"), created_at=T0)
    assert store.record_status("CA1", "ringing", at(1), sequence=1)
    assert store.record_status("CA1", "in-progress", at(2), sequence=2)
    assert not store.record_status("CA1", "ringing", at(3), sequence=1)  # late duplicate
    assert store.record_status("CA1", "completed", at(9), duration=7, sequence=3)
    assert store.record_status("CA1", "initiated", at(0.5), sequence=0)  # late, earlier
    [entry] = store.search()
    assert (entry.status, entry.final_status, entry.duration) == ("completed", "completed", 7)
    assert [s.status for s in store.statuses_of("CA1")] == [
        "queued", "initiated", "ringing", "in-progress", "completed"
    ]  # fmt: skip


def test_webhook_events_record_received_calls_with_errors(store: HistoryStore):
    event = CallStatusEvent(
        fields={
            "CallSid": "CA9", "CallStatus": "failed", "From": "+15557654321",
            "To": "+15005550006", "Direction": "inbound", "ErrorCode": "11200",
            "ErrorMessage": "HTTP retrieval failure", "Timestamp": format_datetime(at(5)),
            "SequenceNumber": "2",
        }
    )  # fmt: skip
    assert store.record_event(event, room="Lobby", identity="guest")
    assert not store.record_event(event)
    [entry] = store.search(text="retrieval")
    assert (entry.direction, entry.error_code, entry.room) == ("inbound", "11200", "Lobby")
    assert entry.created_at == at(5)


def test_search_finds_substrings_and_filters_alike(store: HistoryStore):
    store.record_call(outbound("CA1", "+15551230001", room="Daily Standup"), created_at=at(1))
    alice = outbound("CA2", "sip:alice@example.com", identity="Alice", room="Support")
    store.record_call(alice, created_at=at(2))
    store.record_call(outbound("CA3", "+15551230003", room="100%_sure"), created_at=at(3))
    store.record_status("CA2", "completed", at(4), duration=3)
    inbound = Call("CA4", "+15005550006", "+4420", "ringing", "inbound")
    store.record_call(inbound, created_at=at(5))

    def sids(**filters) -> list[str]:
        return [entry.sid for entry in store.search(**filters)]

    assert sids() == ["CA4", "CA3", "CA2", "CA1"]
    assert sids(text="standup") == ["CA1"]  # case-insensitive, part of a word
    assert sids(text="ALICE@EXAM") == ["CA2"]
    assert sids(text="555123") == ["CA3", "CA1"]
    assert sids(text="0%_") == ["CA3"]  # % and _ are text, not wildcards
    assert sids(text="44") == ["CA4"]  # shorter than a trigram still matches
    assert sids(text="zz") == [] and sids(text="nowhere") == []
    assert sids(status="completed") == ["CA2"]
    assert sids(status=["queued", "ringing"]) == ["CA4", "CA3", "CA1"]
    assert sids(direction="outbound") == ["CA3", "CA2", "CA1"]
    assert sids(direction="inbound") == ["CA4"]
    assert sids(since=at(3)) == ["CA4", "CA3"]
    assert sids(limit=2) == ["CA4", "CA3"]
    assert sids(text="5551230", status="queued", since=at(2)) == ["CA3"]


def test_a_renamed_room_is_found_by_its_new_name_only(store: HistoryStore):
    store.record_call(outbound("CA1", room="Before"), created_at=T0)
    store.record_call(outbound("CA1", room="Afterwards"), created_at=T0)
    assert [e.sid for e in store.search(text="Afterwards")] == ["CA1"]
    assert store.search(text="Before") == []


def test_csv_has_the_same_columns_on_both(store: HistoryStore):
    store.record_call(outbound("CA1", "=cmd"), created_at=T0)
    text = io.StringIO(newline="")
    assert store.export_csv(store.search(), text) == 1
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][CSV_COLUMNS.index("to")] == "'=cmd"


def test_an_old_sqlite_history_gains_the_search_index_in_place(tmp_path, caplog):
    path = tmp_path / "history.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(
        """
        CREATE TABLE calls (sid TEXT PRIMARY KEY, direction TEXT NOT NULL DEFAULT '',
            from_ TEXT NOT NULL DEFAULT '', "to" TEXT NOT NULL DEFAULT '',
            room TEXT NOT NULL DEFAULT '', identity TEXT NOT NULL DEFAULT '',
            display_name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT '', final_status TEXT NOT NULL DEFAULT '',
            duration INTEGER, error_code TEXT NOT NULL DEFAULT '',
            error_message TEXT NOT NULL DEFAULT '');
        CREATE TABLE call_statuses (sid TEXT NOT NULL REFERENCES calls (sid) ON DELETE CASCADE,
            status TEXT NOT NULL, at TEXT NOT NULL, sequence INTEGER, PRIMARY KEY (sid, status));
        PRAGMA user_version = 1;
        """
    )
    for number in range(50):
        raw.execute(
            "INSERT INTO calls (sid, room, created_at, status) VALUES (?, ?, ?, 'completed')",
            (f"CA{number}", f"Room {number}", at(number).isoformat()),
        )
    raw.commit()
    raw.close()
    with caplog.at_level("INFO"), CallHistory(path) as history:
        assert len(history.search(limit=None)) == 50
        assert [e.sid for e in history.search(text="Room 42")] == ["CA42"]
    assert any("building the text search index" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_the_history_command_reads_the_teams_history_from_postgresql(database, database_url):
    PostgresHistory(database, ACCOUNT).record_call(outbound("CA" + "7" * 32, room="Ops"))
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": "/nonexistent",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    command = [sys.executable, "-m", "console", "history", "--database", database_url]
    done = subprocess.run(
        [*command, "--account", ACCOUNT, "--csv"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader(io.StringIO(done.stdout))
    assert (row["sid"], row["room"], row["to"]) == ("CA" + "7" * 32, "Ops", "+15551234567")
    assert row["operator"] == ""  # the team's export names who placed a call (here: nobody)

    other = subprocess.run(
        [*command, "--account", "AC" + "9" * 32], capture_output=True, text=True, env=env
    )
    assert (other.returncode, other.stdout.strip()) == (0, "No calls yet.")

    secret = "not-the-password-4711"
    parts = urlsplit(database_url)
    bad_url = urlunsplit(parts._replace(netloc=f"{parts.username}:{secret}@{parts.hostname}:"
                                               f"{parts.port}"))  # fmt: skip
    refused = subprocess.run(
        [sys.executable, "-m", "console", "history", "--database", bad_url, "--account", ACCOUNT],
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == 1
    assert secret not in refused.stderr and secret not in refused.stdout
    assert refused.stderr.startswith("switchboard history: The database ")
