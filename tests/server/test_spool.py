"""The local spool: events kept on disk in order, replayed once, and orphans picked up."""

from __future__ import annotations

import fcntl
import json
import os
import time

import pytest

from server.spool import (
    ABANDONED_SECONDS,
    DEAD_LETTERS,
    ORPHANS_LOCK,
    Refused,
    Spool,
    SpoolFull,
    drain_orphans,
)


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


def test_one_process_at_a_time_replays_the_dead_ones_spools(tmp_path):
    dead = Spool(tmp_path)
    dead.append({"n": 1})
    dead._file.close()
    with open(tmp_path / ORPHANS_LOCK, "ab") as held:  # another process is replaying them
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert drain_orphans(tmp_path, lambda record: None) == 0
        assert dead.path.exists()
    written: list[dict] = []
    assert drain_orphans(tmp_path, written.append) == 1
    assert written == [{"n": 1}] and not dead.path.exists()


def test_a_damaged_line_is_set_aside_and_the_replay_goes_on(tmp_path):
    dead = Spool(tmp_path)
    dead.append({"n": 1})
    dead._file.write(b'{"n": 2, "tor\n')  # e.g. the disk filled mid-line
    dead.append({"n": 3})
    dead._file.close()
    written: list[dict] = []
    assert drain_orphans(tmp_path, written.append) == 2
    assert written == [{"n": 1}, {"n": 3}]
    letters = [json.loads(line) for line in (tmp_path / DEAD_LETTERS).read_text().splitlines()]
    assert letters[0]["line"] == '{"n": 2, "tor\n' and letters[0]["spool"] == dead.path.name


def test_a_refused_record_is_set_aside_and_the_spool_emptied(tmp_path):
    spool = Spool(tmp_path)
    for number in range(3):
        spool.append({"n": number})
    written: list[int] = []

    def write(record: dict) -> None:
        if record["n"] == 1:
            raise Refused("integer out of range")
        written.append(record["n"])

    assert spool.drain(write) == 2
    assert written == [0, 2] and not spool.pending
    letter = json.loads((tmp_path / DEAD_LETTERS).read_text())
    assert letter["record"] == {"n": 1} and letter["reason"] == "integer out of range"
    spool.close()


_DISK_FULL = """
import json, resource, signal, sys
from server.spool import Spool
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
spool = Spool(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
kept = []
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # the disk fills mid-record
try:
    for number in range(100):
        spool.append({"n": number, "pad": "x" * 90})
        kept.append(number)
except OSError:
    pass
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
spool.append({"n": "after"})
kept.append("after")
written = []
spool.drain(written.append)
print(json.dumps({"kept": kept, "written": [r["n"] for r in written]}))
"""


def test_a_record_the_disk_had_no_room_for_leaves_no_half_line(tmp_path):
    import subprocess
    import sys

    ran = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(ran.stdout)
    assert 0 < len(result["kept"]) < 100  # some were kept before the disk was full
    assert result["written"] == result["kept"]  # every acknowledged one, and nothing else
    assert not (tmp_path / DEAD_LETTERS).exists()  # no line spoiled by half of a failed one


def test_a_spool_whose_process_died_while_creating_it_is_removed(tmp_path):
    live = Spool(tmp_path)  # a live process's spool, and one being created right now
    creating = tmp_path / ".spool-1-abcd.jsonl.new"
    held = open(creating, "a+b")  # noqa: SIM115
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    just_made = tmp_path / ".spool-3-beef.jsonl.new"  # opened a moment ago, not locked yet
    just_made.touch()
    abandoned = tmp_path / ".spool-2-dcba.jsonl.new"  # its process died before naming it
    abandoned.touch()
    old = time.time() - 2 * ABANDONED_SECONDS
    os.utime(abandoned, (old, old))
    assert drain_orphans(tmp_path, lambda record: None, own=live.path) == 0
    assert creating.exists() and just_made.exists() and live.path.exists()
    assert not abandoned.exists()
    held.close()
    live.close()
