"""The event log's order under real concurrent transactions: ids visible in order, no deadlock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg

from server import event_log, status_writes
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader
from tests.server.conftest import ACCOUNT


def _waiting_on_a_lock(url: str, pid: int) -> bool:
    with psycopg.connect(url, autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
    return bool(row) and row[0] == "Lock"


def _status(sid: str, status: str, sequence: int) -> dict:
    fields = {"CallSid": sid, "CallStatus": status, "SequenceNumber": str(sequence)}
    return {"type": "call_status", "fields": fields}


def test_an_append_waits_for_an_earlier_open_one_and_a_reader_sees_both_in_order_once(
    team_server,
):
    url, account = team_server.database.url, team_server.account
    stream = EventStreamReader(team_server.api("/events"), team_server.token("alice"))
    stream.next_of("hello")
    with team_server.database.connection() as reader:
        head = event_log.head(reader, account)  # after alice's stream came online
    with (
        ThreadPoolExecutor(1) as pool,  # left last, after first (which second may wait on)
        psycopg.connect(url) as second,
        psycopg.connect(url) as first,
    ):
        first_id = event_log.append(first, account, "test.first", {"n": 1})  # stays open
        late = pool.submit(lambda: (event_log.append(second, account, "test.second", {}), 0)[0])
        wait_until(lambda: _waiting_on_a_lock(url, second.info.backend_pid), timeout=10)
        assert not late.done()  # no id for it while the first is open
        with team_server.database.connection() as reader:
            assert event_log.after(reader, account, head) == []  # neither is visible yet
        first.commit()
        second_id = late.result(timeout=10)
        second.commit()
    assert first_id < second_id
    with team_server.database.connection() as writer:
        event_log.append(writer, account, "test.end", {})
    seen = []
    while not seen or seen[-1].kind != "test.end":
        event = stream.next()
        assert event is not None, "the stream ended"
        seen.append(event)
    tests = [(event.id, event.kind) for event in seen if event.kind.startswith("test.")]
    assert tests[:2] == [(first_id, "test.first"), (second_id, "test.second")]  # each once
    assert len(tests) == 3 and tests[2][1] == "test.end"
    with team_server.database.connection() as reader:
        logged = event_log.after(reader, account, head)
    assert [(e.id, e.kind) for e in logged] == tests
    stream.close()


def test_a_batch_of_callbacks_and_a_move_touching_the_same_call_both_commit(database):
    """A batch appends once per callback in one statement; /move locks its call, then appends.
    The batch, holding the event lock and waiting for the moved call's row, deadlocks with the
    move: PostgreSQL aborts the batch, which writes its callbacks one by one after the move."""
    url = database.url
    with psycopg.connect(url, autocommit=True) as setup:
        for sid in ("CA_moved", "CA_other"):
            status_writes.write_one(setup, ACCOUNT, _status(sid, "ringing", 0))
    batch = [_status("CA_other", "in-progress", 1), _status("CA_moved", "in-progress", 1)]
    with (
        ThreadPoolExecutor(1) as pool,
        psycopg.connect(url, autocommit=True) as writer,
        psycopg.connect(url) as move,
    ):
        move.execute(  # what /move does (server/api_rooms.py), up to its append
            "UPDATE calls SET room = 'Elsewhere' WHERE account = %s AND sid = 'CA_moved'",
            (ACCOUNT,),
        )
        written = pool.submit(status_writes.write_many, writer, ACCOUNT, batch)
        wait_until(lambda: _waiting_on_a_lock(url, writer.info.backend_pid), timeout=10)
        moved_id = event_log.append(move, ACCOUNT, "call.moved", {"call_sid": "CA_moved"})
        move.commit()
        ids = written.result(timeout=10)
    assert all(isinstance(event_id, int) for event_id in ids), ids
    assert moved_id < min(ids)  # the batch waited for the move, then appended after it
    with database.connection() as connection:
        logged = event_log.after(connection, ACCOUNT, 0)
        room = connection.execute(
            "SELECT room, status FROM calls WHERE account = %s AND sid = 'CA_moved'", (ACCOUNT,)
        ).fetchone()
    assert [e.id for e in logged] == sorted(e.id for e in logged)
    assert room == ("Elsewhere", "in-progress")
