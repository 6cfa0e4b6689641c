"""Team history exports: a large CSV in flat memory, and `switchboard history --database`."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from console.core.calls.history import CSV_COLUMNS
from console.core.calls.records import Call
from server import call_store
from tests.helpers.postgres_fixtures import ACCOUNT

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
        assert history.export_csv(file, limit=1000) == 1000
    rows = list(csv.reader(out.open(encoding="utf-8")))
    newest = history.search(limit=1000)
    assert [row[0] for row in rows[1:]] == [call.sid for call in newest]


@pytest.mark.slow
def test_the_history_command_reads_the_teams_history_from_postgresql(database, database_url):
    call = Call(
        "CA" + "7" * 32, "+15551234567", "+15005550006", "queued", "outbound-api", room="Ops"
    )
    call_store.PostgresHistory(database, ACCOUNT).record_call(call)
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
