"""The local spool: events kept on disk in order, replayed once, and orphans picked up."""

from __future__ import annotations

import pytest

from server.spool import Spool, SpoolFull, drain_orphans


def test_spooled_records_are_replayed_in_order_and_the_file_emptied(tmp_path):
    spool = Spool(tmp_path)
    for number in range(5):
        spool.append({"n": number})
    assert spool.pending
    written: list[dict] = []
    assert spool.drain(written.append) == 5
    assert [r["n"] for r in written] == [0, 1, 2, 3, 4]
    assert not spool.pending and spool.path.stat().st_size == 0
    spool.close()
    assert not spool.path.exists()


def test_a_failed_write_keeps_that_record_and_all_after_it(tmp_path):
    spool = Spool(tmp_path)
    for number in range(3):
        spool.append({"n": number})
    written: list[int] = []

    def flaky(record: dict) -> None:
        if record["n"] == 1 and not written.count(-1):
            written.append(-1)
            raise ConnectionError("database away")
        written.append(record["n"])

    with pytest.raises(ConnectionError):
        spool.drain(flaky)
    spool.append({"n": 3})
    spool.drain(flaky)
    assert written == [0, -1, 1, 2, 3]
    spool.close()


def test_a_dead_process_spool_is_replayed_by_the_next_one(tmp_path):
    dead = Spool(tmp_path)
    dead.append({"n": 1})
    dead.append({"n": 2})
    dead._file.close()  # the process died: its lock went with it, the file stays
    alive = Spool(tmp_path)
    written: list[dict] = []
    assert drain_orphans(tmp_path, written.append, own=alive.path) == 2
    assert written == [{"n": 1}, {"n": 2}]
    assert not dead.path.exists()
    assert drain_orphans(tmp_path, written.append, own=alive.path) == 0
    alive.close()


def test_a_live_process_spool_is_left_to_its_owner(tmp_path):
    owner = Spool(tmp_path)
    owner.append({"n": 1})
    other = Spool(tmp_path)
    assert drain_orphans(tmp_path, lambda record: None, own=other.path) == 0
    owner.close()
    other.close()


def test_a_full_spool_refuses_the_record(tmp_path):
    spool = Spool(tmp_path, max_bytes=20)
    spool.append({"n": 1})
    with pytest.raises(SpoolFull):
        spool.append({"text": "x" * 30})
    spool.close()
