"""Replaying the spool writes each callback once, even a callback already in the database."""

from __future__ import annotations

import pytest

from server.recorder import apply, callback_key
from server.spool import Spool, drain_orphans
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
