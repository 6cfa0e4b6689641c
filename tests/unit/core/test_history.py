"""One history suite, two engines: every test runs on the desktop's SQLite and the team's
PostgreSQL (a real server, started only when these run), through the HistoryStore protocol."""

from __future__ import annotations

import csv
import io
import sqlite3
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import psycopg
import pytest

from console.core.calls import history as history_module
from console.core.calls.history import CSV_COLUMNS, CallHistory, HistoryStore
from console.core.calls.records import Call
from server.call_store import PostgresHistory
from tests.helpers.postgres_fixtures import ACCOUNT
from webhook.events import CallStatusEvent

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENGINES = ("sqlite", "sqlite-common-text", "postgresql")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def outbound(sid: str, to: str = "+15551234567", **extra) -> Call:
    fields = {"room": "Standup", "identity": "bob", "status": "queued"} | extra
    return Call(sid=sid, to=to, from_="+15005550006", direction="outbound-api", **fields)


@pytest.fixture(params=ENGINES)
def store(request, tmp_path: Path, monkeypatch) -> Iterator[HistoryStore]:
    """The history on each engine; "sqlite-common-text" counts every text as common, so
    SQLite reads the newest calls first and matches them one by one."""
    if request.param == "postgresql":
        yield PostgresHistory(request.getfixturevalue("database"), ACCOUNT)
        return
    if request.param == "sqlite-common-text":
        monkeypatch.setattr(history_module, "FTS_CANDIDATES", 0)
    with CallHistory(tmp_path / "history.sqlite3") as history:
        yield history


def csv_header(store: HistoryStore) -> list[str]:
    """The CSV header each engine writes: a team's history names the operator last."""
    return [*CSV_COLUMNS, "operator"] if isinstance(store, PostgresHistory) else list(CSV_COLUMNS)


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_call_and_its_statuses(store: HistoryStore):
    store.record_call(outbound("CA1"), created_at=at(0))
    assert store.record_status("CA1", "ringing", at(1), sequence=1)
    assert store.record_status("CA1", "in-progress", at(3), sequence=2)
    assert store.record_status("CA1", "completed", at(65), duration=62, sequence=3)
    (entry,) = store.search()
    assert (entry.sid, entry.to, entry.room, entry.identity) == (
        "CA1", "+15551234567", "Standup", "bob"
    )  # fmt: skip
    assert (entry.status, entry.final_status, entry.duration) == ("completed", "completed", 62)
    assert entry.created_at == at(0)
    assert [(s.status, s.at, s.sequence) for s in store.statuses_of("CA1")] == [
        ("queued", at(0), None),
        ("ringing", at(1), 1),
        ("in-progress", at(3), 2),
        ("completed", at(65), 3),
    ]
    assert store.statuses_of("CA404") == []


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


def test_duplicate_and_late_callbacks_change_nothing(store: HistoryStore):
    store.record_call(outbound("CA1"), created_at=at(0))
    store.record_status("CA1", "ringing", at(1), sequence=1)
    store.record_status("CA1", "busy", at(20), duration=0, sequence=2)
    assert not store.record_status("CA1", "busy", at(21), duration=0, sequence=2)
    assert not store.record_status("CA1", "ringing", at(22), sequence=1)
    store.record_status("CA1", "completed", at(23), duration=9)  # a second final: ignored
    store.record_status("CA1", "queued", at(24))  # a late early status: no step back
    (entry,) = store.search()
    assert (entry.status, entry.final_status, entry.duration) == ("busy", "busy", 0)
    assert [s.status for s in store.statuses_of("CA1")] == [
        "queued",
        "ringing",
        "busy",
        "completed",
    ]


def test_callbacks_before_the_call_is_recorded(store: HistoryStore):
    store.record_status("CA9", "ringing", at(2), sequence=1)
    store.record_call(outbound("CA9", status="queued"), created_at=at(1))
    (entry,) = store.search()
    assert (entry.to, entry.room, entry.status, entry.created_at) == (
        "+15551234567", "Standup", "ringing", at(1)
    )  # fmt: skip
    assert [s.status for s in store.statuses_of("CA9")] == ["queued", "ringing"]


def test_webhook_events_record_received_calls_with_errors(store: HistoryStore):
    def event(**fields: str) -> CallStatusEvent:
        base = {"CallSid": "CA7", "From": "+15557654321", "To": "+15005550006"}
        return CallStatusEvent(base | {"Direction": "inbound"} | fields)

    stamp = format_datetime(at(5), usegmt=True)
    assert store.record_event(event(CallStatus="ringing", SequenceNumber="0", Timestamp=stamp))
    assert not store.record_event(event(CallStatus="ringing", SequenceNumber="0"))
    final = event(
        CallStatus="failed", SequenceNumber="1", CallDuration="0", ErrorCode="11200",
        ErrorMessage="HTTP retrieval failure", Timestamp=format_datetime(at(9), usegmt=True),
    )  # fmt: skip
    assert store.record_event(final, room="Lobby", identity="guest")
    (entry,) = store.search(direction="inbound")
    assert (entry.from_, entry.to, entry.room, entry.identity) == (
        "+15557654321", "+15005550006", "Lobby", "guest"
    )  # fmt: skip
    assert (entry.final_status, entry.error_code, entry.error_message) == (
        "failed", "11200", "HTTP retrieval failure"
    )  # fmt: skip
    assert entry.created_at == at(5)
    assert [e.sid for e in store.search(text="retrieval")] == ["CA7"]
    assert [(s.status, s.at) for s in store.statuses_of("CA7")] == [
        ("ringing", at(5)), ("failed", at(9))
    ]  # fmt: skip
    assert not store.record_event(CallStatusEvent({"CallStatus": "ringing"}))  # no CallSid


def test_an_error_code_learnt_later_is_kept(store: HistoryStore):
    store.record_call(outbound("CA1"), created_at=at(0))
    store.record_status("CA1", "failed", at(2))
    store.record_status("CA1", "failed", at(3), error_code="32009", error_message="SIP down")
    (entry,) = store.search()
    assert (entry.final_status, entry.error_code, entry.error_message) == (
        "failed", "32009", "SIP down"
    )  # fmt: skip
    assert [e.sid for e in store.search(text="sip DOWN")] == ["CA1"]  # errors are searched


def test_search_filters_and_orders_newest_first(store: HistoryStore):
    store.record_call(outbound("CA1", to="+15550000001", identity="alice"), created_at=at(0))
    store.record_call(
        outbound("CA2", to="sip:carol@example.com", identity="carol"),
        display_name="Carol 100%",
        created_at=at(10),
    )
    store.record_call(outbound("CA3", to="+15550000003", room="Ops"), created_at=at(20))
    store.record_status("CA1", "no-answer", at(70))
    store.record_status("CA3", "busy", at(25))
    store.record_call(Call("CA4", "+15005550006", "+4420", "ringing", "inbound"), created_at=at(30))

    def sids(**query) -> list[str]:
        return [entry.sid for entry in store.search(**query)]

    assert sids() == ["CA4", "CA3", "CA2", "CA1"]
    assert sids(text="alice") == ["CA1"]
    assert sids(text="ops") == ["CA3"]  # case-insensitive
    assert sids(text="OPS") == ["CA3"]
    assert sids(text="CAROL@EXAM") == ["CA2"]  # part of a word
    assert sids(text="0000003") == ["CA3"]
    assert sids(text="100%") == ["CA2"]
    assert sids(text="%") == ["CA2"]  # a literal %, not a wildcard
    assert sids(text="_") == []  # and _ is no wildcard either
    assert sids(text="44") == ["CA4"]  # shorter than a trigram still matches
    assert sids(text="zz") == [] and sids(text="nowhere") == []
    assert sids(text="  alice  ") == ["CA1"]  # spaces around the text are not searched
    assert sids(status="busy") == ["CA3"]
    assert sids(status=["busy", "no-answer"]) == ["CA3", "CA1"]
    assert sids(status=["queued", "ringing"]) == ["CA4", "CA2"]
    assert sids(direction="outbound") == ["CA3", "CA2", "CA1"]
    assert sids(direction="inbound") == ["CA4"]
    assert sids(since=at(10)) == ["CA4", "CA3", "CA2"]
    assert sids(limit=2) == ["CA4", "CA3"]
    assert sids(limit=0) == []
    assert sids(limit=None, text="+1555000") == ["CA3", "CA1"]
    assert sids(text="555000", status="busy", since=at(1)) == ["CA3"]


def test_a_renamed_room_is_found_by_its_new_name_only(store: HistoryStore):
    store.record_call(outbound("CA1", room="Before"), created_at=T0)
    store.record_call(outbound("CA1", room="Afterwards"), created_at=T0)
    assert [e.sid for e in store.search(text="Afterwards")] == ["CA1"]
    assert store.search(text="Before") == []


NAMES = {"CA1": "Müller", "CA2": "Østergaard", "CA3": "Жуков", "CA4": "Mueller"}
FOUND_BY = {  # short (a scan) and long (the trigram index) searches, in any case
    "CA1": ("ü", "Ü", "ÜL", "üL", "MÜL", "mÜLLER", "ÜLLER"),
    "CA2": ("ø", "Ø", "ØS", "østerg", "ØSTERGAARD"),
    "CA3": ("ж", "Ж", "ЖУ", "жУКОВ", "УКОВ"),
    "CA4": ("ue", "UE", "MUELLER"),
}


def test_search_folds_case_in_every_script_short_or_long_alike(store: HistoryStore):
    for n, (sid, name) in enumerate(NAMES.items()):
        where = {"room": name} if n % 2 else {"room": "Lobby", "identity": name.upper()}
        store.record_call(outbound(sid, **where), display_name="", created_at=at(n))
    for sid, texts in FOUND_BY.items():
        for text in texts:
            assert [e.sid for e in store.search(text=text)] == [sid], text
    assert store.search(text="MÜLLERS") == [] and store.search(text="ÜX") == []
    assert [e.sid for e in store.search(text="ÜL", limit=None)] == ["CA1"]


def test_csv_export_round_trips_and_defuses_formulas(store: HistoryStore):
    store.record_call(
        outbound("CA1", identity="=HYPERLINK(1)"), display_name="@bob", created_at=at(0)
    )
    store.record_status("CA1", "completed", at(9), duration=7)
    store.record_call(outbound("CA2", "=cmd"), created_at=at(1))
    buffer = io.StringIO(newline="")
    assert store.export_csv(buffer) == 2
    rows = read_csv(buffer.getvalue())
    assert rows[0] == csv_header(store)
    newest, oldest = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert newest["to"] == "'=cmd"
    assert (oldest["sid"], oldest["from"], oldest["to"]) == ("CA1", "+15005550006", "+15551234567")
    assert (oldest["identity"], oldest["display_name"]) == ("'=HYPERLINK(1)", "'@bob")
    assert (oldest["status"], oldest["duration"]) == ("completed", "7")
    assert datetime.fromisoformat(oldest["created_at"]) == at(0)


def test_an_export_takes_the_searchs_filters_and_reports_progress(store: HistoryStore, monkeypatch):
    for n in range(7):
        store.record_call(outbound(f"CA{n}", room="Ops" if n % 2 else "Sales"), created_at=at(n))
    store.record_status("CA5", "busy", at(20))
    monkeypatch.setattr("console.core.calls.history_store.EXPORT_BATCH", 2)
    heard: list[int] = []
    buffer = io.StringIO(newline="")
    assert store.export_csv(buffer, text="ops", progress=heard.append) == 3
    assert [row[0] for row in read_csv(buffer.getvalue())[1:]] == ["CA5", "CA3", "CA1"]
    assert heard == [2, 3]  # every batch, then the count at the end
    for filters, sids in (
        ({"status": "busy"}, ["CA5"]),
        ({"direction": "inbound"}, []),
        ({"since": at(5), "text": "sales"}, ["CA6"]),
        ({"limit": 2}, ["CA6", "CA5"]),
    ):
        buffer = io.StringIO(newline="")
        assert store.export_csv(buffer, **filters) == len(sids)
        assert [row[0] for row in read_csv(buffer.getvalue())[1:]] == sids
        assert [e.sid for e in store.each_entry(**filters)] == sids


def _fill(store: HistoryStore, count: int) -> None:
    """count calls written straight into the engine's tables, as a year of use would leave."""
    rows = (
        (f"CA{n:032x}", f"+1555{n:07d}", f"Room {n % 50}", f"user{n}", at(n)) for n in range(count)
    )
    if isinstance(store, CallHistory):
        raw = sqlite3.connect(store.path)
        with raw:
            raw.executemany(
                'INSERT INTO calls (sid, direction, from_, "to", room, identity, created_at, '
                "status) VALUES (?, 'outbound-api', '+15005550006', ?, ?, ?, ?, 'completed')",
                ((*row[:4], row[4].isoformat()) for row in rows),
            )
        raw.close()
        return
    assert isinstance(store, PostgresHistory)
    columns = 'account, sid, direction, from_, "to", room, identity, created_at, status'
    with psycopg.connect(store.database.url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY calls ({columns}) FROM STDIN") as copy:
            for sid, to, room, identity, created in rows:
                copy.write_row(
                    (ACCOUNT, sid, "outbound-api", "+15005550006", to, room, identity, created,
                     "completed")
                )  # fmt: skip
        connection.commit()


@pytest.mark.slow
def test_a_large_export_reads_the_calls_a_batch_at_a_time(store: HistoryStore, tmp_path: Path):
    """An export of a year's calls: every call once, newest first, written as read, so memory
    stays near one batch instead of the whole history several times over."""
    count = 60_000
    _fill(store, count)
    out = tmp_path / "export.csv"
    heard: list[int] = []
    with out.open("w", newline="", encoding="utf-8") as file:
        tracemalloc.start()
        try:
            written = store.export_csv(file, progress=heard.append)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert [e.sid for e in store.each_entry(limit=5)] == [e.sid for e in store.search(limit=5)]
    size = out.stat().st_size
    assert written == count and heard[-1] == count and len(heard) == count // 2000 + 1
    with out.open(encoding="utf-8") as file:
        rows = csv.reader(file)
        assert next(rows) == csv_header(store)
        assert next(rows)[0] == f"CA{count - 1:032x}"  # newest first
        assert sum(1 for _ in rows) == count - 1
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB export"
