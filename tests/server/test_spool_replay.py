"""Replaying the spool writes each callback once, sets aside what the database refuses, and
picks up the spools of processes that die at any time."""

from __future__ import annotations

import json

import pytest

from server.database_gate import DatabaseGate
from server.recorder import Recorder, apply, callback_key
from server.spool import DEAD_LETTERS, Spool, drain_orphans
from tests.helpers import wait_until
from tests.server.conftest import ACCOUNT

JOINED = {
    "AccountSid": ACCOUNT,
    "RoomSid": "RM" + "a" * 32,
    "RoomName": "Ops",
    "StatusCallbackEvent": "participant-connected",
    "ParticipantSid": "PA" + "b" * 32,
    "ParticipantIdentity": "ann",
    "SequenceNumber": "3",
    "Timestamp": "2026-11-28T12:00:00.000Z",
}
RECORDS = [
    {"type": "room", "fields": JOINED},
    {"type": "call_status", "fields": {"CallSid": "CA" + "c" * 32, "CallStatus": "ringing"}},
    {
        "type": "waiting",
        "call_sid": "CA" + "d" * 32,
        "from": "+15557654321",
        "to": "+15005550006",
        "since": "2026-11-28T12:00:00+00:00",
        "identity": "phone-4321",
    },
]


def _counts(database) -> tuple[int, int, int, int]:
    with database.connection() as connection:
        return tuple(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("room_events", "call_statuses", "waiting", "event_log")
        )


class LostAcknowledgement(ConnectionError):
    """The write committed, but the answer never came back."""


def test_a_record_replayed_after_its_commit_is_written_once(database, tmp_path):
    spool = Spool(tmp_path)
    for record in RECORDS:
        spool.append(record)
    lost = {"once": True}

    def write(record: dict) -> None:
        with database.pool.connection() as connection:
            apply(connection, ACCOUNT, record)
        if record["type"] == "room" and lost.pop("once", False):
            raise LostAcknowledgement("the connection dropped before the commit was confirmed")

    with pytest.raises(LostAcknowledgement):
        spool.drain(write)  # the room callback committed, but is kept as if it had failed
    assert spool.drain(write) == 3  # it goes again, then the rest
    assert _counts(database) == (1, 1, 1, 3)
    spool.close()


def test_a_dead_process_spool_replayed_twice_adds_nothing_the_second_time(database, tmp_path):
    dead = Spool(tmp_path)
    for record in RECORDS:
        dead.append(record)
    copy = dead.path.read_bytes()
    dead._file.close()  # the process died holding its spool

    def write(record: dict) -> None:
        with database.pool.connection() as connection:
            apply(connection, ACCOUNT, record)

    assert drain_orphans(tmp_path, write) == 3
    (tmp_path / "spool-1-again.jsonl").write_bytes(copy)  # e.g. it died again mid-replay
    assert drain_orphans(tmp_path, write) == 3
    assert _counts(database) == (1, 1, 1, 3)


def test_distinct_room_callbacks_are_all_kept():
    later = {**JOINED, "SequenceNumber": "4", "Timestamp": "2026-11-28T12:00:01.000Z"}
    assert callback_key(JOINED) == callback_key(dict(reversed(list(JOINED.items()))))
    assert callback_key(JOINED) != callback_key(later)


def _status(sid: str, sequence: str = "3") -> dict:
    fields = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": sequence}
    return {"type": "call_status", "fields": fields}


@pytest.fixture
def recorder_parts(database, tmp_path):
    """A spool directory, and a way to start a recorder on it (closed at the end)."""
    started: list[Recorder] = []

    def start() -> Recorder:
        gate = DatabaseGate(database)
        assert gate.check()
        started.append(Recorder(database, ACCOUNT, Spool(tmp_path), gate))
        return started[-1]

    yield tmp_path, start
    for recorder in started:
        recorder.close()


def _sids(database) -> list[str]:
    with database.connection() as connection:
        return [row[0] for row in connection.execute("SELECT sid FROM calls ORDER BY sid")]


def test_records_the_database_refuses_are_set_aside_and_the_rest_written(
    database, recorder_parts, postgres, caplog
):
    directory, start = recorder_parts
    own = Spool(directory)  # this process's spool, filled while the database was away
    for record in (
        _status("CA" + "1" * 32),
        _status("CA" + "2" * 32, sequence="99999999999"),  # integer out of range
        _status("CA\x00" + "3" * 31),  # text PostgreSQL cannot hold
        _status("CA" + "4" * 32),
    ):
        own.append(record)
    own._file.close()  # its process died: the next one replays it
    recorder = start()
    wait_until(lambda: not own.path.exists(), timeout=10)
    assert _sids(database) == ["CA" + "1" * 32, "CA" + "4" * 32]
    letters = [json.loads(line) for line in (directory / DEAD_LETTERS).read_text().splitlines()]
    assert [letter["record"]["fields"]["CallSid"] for letter in letters] == [
        "CA" + "2" * 32,
        "CA\x00" + "3" * 31,
    ]
    assert "out of range" in letters[0]["reason"] and "NUL" in letters[1]["reason"]
    assert "set aside" in caplog.text and postgres.password not in caplog.text
    # Nothing is left waiting, so the next callback is written at once, not spooled behind.
    recorder.spool.append(_status("CA" + "5" * 32, sequence="99999999999"))
    recorder.spool.append(_status("CA" + "6" * 32))
    wait_until(lambda: not recorder.spool.pending, timeout=10)
    assert _sids(database)[-1] == "CA" + "6" * 32
    assert len((directory / DEAD_LETTERS).read_text().splitlines()) == 3


def test_a_live_process_replays_a_spool_left_after_it_started(database, recorder_parts):
    directory, start = recorder_parts
    start()  # its first round finds nothing to replay
    dead = Spool(directory)
    dead.append(_status("CA" + "7" * 32))
    dead.append(_status("CA" + "8" * 32))
    dead._file.close()  # another process died while the database was away
    wait_until(lambda: not dead.path.exists(), timeout=10)
    assert _sids(database) == ["CA" + "7" * 32, "CA" + "8" * 32]
