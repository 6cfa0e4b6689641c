"""A large CSV export of the team's history: every call once, newest first, in flat memory."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import UTC, datetime, timedelta

import psycopg

from console.core.calls.history import CSV_COLUMNS
from server import call_store

CALLS = 60_000  # about 9 MB of CSV; read whole, the server would hold well over 100 MB


def _fill(url: str, account: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        columns = (
            'account, sid, direction, from_, "to", room, identity, created_at, status, operator'
        )
        with cursor.copy(f"COPY calls ({columns}) FROM STDIN") as copy:
            for n in range(CALLS):
                copy.write_row((
                    account, f"CA{n:032x}", "outbound-api", "+15005550006",
                    f"+1555{n % 10**7:07d}", f"Room {n % 50}", f"user{n}",
                    start + timedelta(seconds=n), "completed", f"op{n % 3}",
                ))  # fmt: skip
        connection.commit()


def test_a_year_sized_export_streams_every_call_once_newest_first(team_server):
    _fill(team_server.database.url, team_server.account)
    session = team_server.session("alice")
    tracemalloc.start()
    try:
        answer = session.get(team_server.api("/history.csv"), stream=True, timeout=60)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
        size = int(answer.headers["Content-Length"])
        lines = answer.iter_lines(chunk_size=64 * 1024, decode_unicode=True)
        header = next(csv.reader([next(lines)]))
        first = next(csv.reader([next(lines)]))
        count, received = 1, 0
        for line in lines:
            count += 1
            received += len(line)
            last = line
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert header == [*CSV_COLUMNS, "operator"]
    assert count == CALLS and received > CALLS * 100
    assert first[0] == f"CA{CALLS - 1:032x}" and first[-1] == f"op{(CALLS - 1) % 3}"
    assert next(csv.reader([last]))[0] == f"CA{0:032x}"  # the oldest last
    assert size > 8_000_000
    # The server read and wrote the export a batch at a time: its peak is about the export's
    # size (the in-memory part of the file and its move to disk, one batch of rows). Read whole
    # and written in memory, as before, it was ten times the export's size.
    assert peak < size * 3, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB export"


def test_the_command_line_export_reads_the_same_calls(team_server, tmp_path):
    _fill(team_server.database.url, team_server.account)
    out = tmp_path / "history.csv"
    history = call_store.PostgresHistory(team_server.database, team_server.account)
    with out.open("w", newline="", encoding="utf-8") as file:
        assert history.export_team_csv(file, limit=1000) == 1000
    rows = list(csv.reader(out.open(encoding="utf-8")))
    newest = history.search(limit=1000)
    assert [row[0] for row in rows[1:]] == [call.sid for call in newest]
