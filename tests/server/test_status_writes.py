"""Status callbacks written in a batch land exactly as they would one by one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from server import event_log, status_writes
from tests.helpers import wait_until
from tests.helpers.signing import twilio_signature
from tests.server.conftest import ACCOUNT

SID = "CA" + "1" * 32
OTHER = "CA" + "2" * 32


def _status(sid: str, status: str, sequence: int, **more: str) -> dict:
    fields = {"CallSid": sid, "CallStatus": status, "SequenceNumber": str(sequence),
              "From": "+15005550006", "To": "+15557654321", "Direction": "outbound-api",
              "Timestamp": f"Sat, 28 Nov 2026 12:00:0{sequence} +0000", **more}  # fmt: skip
    return {"type": "call_status", "fields": fields}


CALLBACKS = [
    _status(SID, "initiated", 0),
    _status(OTHER, "ringing", 1),
    _status(SID, "ringing", 1),
    {"type": "call_status", "fields": {"CallStatus": "ringing"}},  # no call: nothing to keep
    _status(SID, "ringing", 1),  # Twilio's retry of the same callback
    _status(SID, "completed", 3, CallDuration="42"),
    _status(OTHER, "failed", 2, ErrorCode="31200", ErrorMessage="Call failed to connect"),
]


def _state(connection: psycopg.Connection) -> tuple[list, list, list]:
    calls = connection.execute(
        'SELECT sid, direction, from_, "to", status, final_status, duration, error_code, '
        "error_message, created_at FROM calls ORDER BY sid"
    ).fetchall()
    statuses = connection.execute(
        "SELECT sid, status, sequence, at FROM call_statuses ORDER BY sid, status"
    ).fetchall()
    events = [
        (event.kind, {k: v for k, v in event.data.items()})
        for event in event_log.after(connection, ACCOUNT, 0)
    ]
    return calls, statuses, events


@pytest.fixture
def two_databases(postgres, database_url):
    from server.database import connect_once
    from server.migrations import migrate

    other = postgres.create_database(f"{database_url.rsplit('/', 1)[1]}_b")
    with connect_once(other) as connection:
        migrate(connection)
    with (
        psycopg.connect(database_url, autocommit=True) as one,
        psycopg.connect(other, autocommit=True) as two,
    ):
        yield one, two


def test_a_batch_writes_the_rows_and_events_of_the_callbacks_one_by_one(two_databases):
    batched, alone = two_databases
    results = status_writes.write_many(batched, ACCOUNT, CALLBACKS)
    singles = [status_writes.write_one(alone, ACCOUNT, record) for record in CALLBACKS]
    assert _state(batched) == _state(alone)
    calls, statuses, events = _state(batched)
    assert [(c[0], c[4], c[6]) for c in calls] == [(SID, "completed", 42), (OTHER, "failed", 0)]
    assert len(statuses) == 5
    assert [data["status"] for _, data in events] == [
        "initiated",
        "ringing",
        "ringing",
        "completed",
        "failed",
    ]  # in arrival order; the retry and the callback without a call added nothing
    assert [r is None for r in results] == [r is None for r in singles]
    assert results[3] is None and results[4] is None
    logged = [event.id for event in event_log.after(batched, ACCOUNT, 0)]
    assert [r for r in results if r is not None] == logged  # each caller gets its event id


def test_a_callback_the_database_refuses_fails_alone(database):
    bad = _status(OTHER, "ringing", 1, From="+1555\x00")  # PostgreSQL text cannot hold NUL
    with database.pool.connection() as connection:
        results = status_writes.write_many(
            connection, ACCOUNT, [_status(SID, "ringing", 1), bad, _status(SID, "completed", 3)]
        )
        assert isinstance(results[1], psycopg.Error)
        assert isinstance(results[0], int) and isinstance(results[2], int)
        sids = connection.execute("SELECT sid, status FROM calls").fetchall()
    assert sids == [(SID, "completed")]


def test_a_lost_connection_fails_the_whole_batch(database_url):
    connection = psycopg.connect(database_url, autocommit=True)
    connection.close()
    with pytest.raises(psycopg.OperationalError):
        status_writes.write_many(connection, ACCOUNT, CALLBACKS[:3])


def test_callbacks_arriving_together_are_each_stored_once_with_one_event(team_server, sandbox):
    def send(number: int) -> int:
        return _send_ringing(team_server, sandbox, number)

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(send, range(160)))
    assert codes == [204] * 160
    with team_server.database.connection() as connection:
        calls = connection.execute("SELECT count(*) FROM calls").fetchone()[0]
        events = connection.execute(
            "SELECT data->>'sid' FROM event_log WHERE kind = 'call.status'"
        ).fetchall()
    assert calls == 160
    assert sorted(row[0] for row in events) == [f"CA{n:032x}" for n in range(160)]


@pytest.mark.slow
def test_callbacks_behind_a_stuck_write_are_spooled_and_answered(team_server, sandbox):
    """A write stuck in PostgreSQL (here: waiting on a lock) holds only itself: the callbacks
    queued behind it give up after the group's patience, go to the spool and are answered;
    once the lock goes, everything is written, each once."""

    def send(number: int) -> int:
        return _send_ringing(team_server, sandbox, number)

    with psycopg.connect(team_server.database.url) as blocker:
        blocker.execute("LOCK TABLE call_statuses IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(8) as pool:
            stuck = pool.submit(send, 0)
            wait_until(lambda: _waiting_on_a_lock(team_server.database.url), timeout=10)
            behind = list(pool.map(send, range(1, 8)))
            assert behind == [204] * 7  # answered while the lock is still held
            assert not stuck.done()
            blocker.rollback()  # the lock goes
            assert stuck.result(30) == 204

    def written() -> list[str]:
        with team_server.database.connection() as connection:
            rows = connection.execute(
                "SELECT data->>'sid' FROM event_log WHERE kind = 'call.status'"
            ).fetchall()
        return sorted(row[0] for row in rows)

    wait_until(lambda: len(written()) >= 8, timeout=30, interval=0.1)  # the spool drained
    assert written() == [f"CA{n:032x}" for n in range(8)]  # each once


def _send_ringing(team_server, sandbox, number: int) -> int:
    """A signed "ringing" callback for call number `number`; the HTTP status it got."""
    url = f"{team_server.url}/voice/status"
    fields = {"CallSid": f"CA{number:032x}", "CallStatus": "ringing", "SequenceNumber": "1"}
    signature = twilio_signature(sandbox.auth_token, url, fields)
    headers = {"X-Twilio-Signature": signature}
    return requests.post(url, data=fields, headers=headers, timeout=60).status_code


def _waiting_on_a_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND application_name = 'switchboard'"
        ).fetchone()
    return bool(row and row[0])
