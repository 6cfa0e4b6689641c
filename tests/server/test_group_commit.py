"""Group commit: a lone write goes at once; writes that arrive meanwhile go together next."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.group_commit import GroupCommit

WAIT = 10.0


class Writer:
    """A write_batch that records its batches and can be held inside a batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.inside = threading.Event()
        self.hold = threading.Event()
        self.hold.set()

    def __call__(self, items: Sequence[str]) -> list[object]:
        self.batches.append(list(items))
        self.inside.set()
        assert self.hold.wait(WAIT)
        return [ValueError(f"bad {item}") if item.startswith("bad") else item.upper()
                for item in items]  # fmt: skip


def _wait_queued(group: GroupCommit, count: int) -> None:
    deadline = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if group.queued >= count:
            return
        deadline.wait(0.01)
    raise AssertionError(f"{group.queued} queued, expected {count}")


def _write_while_held(writer: Writer, group: GroupCommit, later: list[str]) -> list[object]:
    """Hold the first batch ("first") while `later` queue up; the results of all, in order."""
    writer.hold.clear()
    with ThreadPoolExecutor(len(later) + 1) as pool:
        first = pool.submit(group.write, "first")
        assert writer.inside.wait(WAIT)
        queued = [pool.submit(group.write, item) for item in later]
        _wait_queued(group, len(later))
        writer.hold.set()
        outcomes = []
        for future in [first, *queued]:
            try:
                outcomes.append(future.result(WAIT))
            except ValueError as error:
                outcomes.append(error)
    return outcomes


def test_a_lone_write_is_written_alone_at_once():
    writer = Writer()
    group = GroupCommit(writer)
    assert group.write("a") == "A"
    assert group.write("b") == "B"
    assert writer.batches == [["a"], ["b"]]


def test_writes_arriving_during_a_batch_go_together_in_the_next():
    writer = Writer()
    group = GroupCommit(writer)
    later = [f"w{n}" for n in range(12)]
    outcomes = _write_while_held(writer, group, later)
    assert outcomes == ["FIRST", *(item.upper() for item in later)]  # each caller its own
    assert writer.batches[0] == ["first"]
    assert len(writer.batches) == 2 and sorted(writer.batches[1]) == sorted(later)
    assert group.queued == 0


def test_one_items_error_is_raised_to_its_caller_only():
    writer = Writer()
    group = GroupCommit(writer)
    outcomes = _write_while_held(writer, group, ["ok1", "bad", "ok2"])
    assert outcomes[0] == "FIRST"
    assert {str(o) for o in outcomes[1:] if isinstance(o, ValueError)} == {"bad bad"}
    assert sorted(o for o in outcomes[1:] if isinstance(o, str)) == ["OK1", "OK2"]


def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_goes():
    calls: list[list[str]] = []

    def write_batch(items: Sequence[str]) -> list[str]:
        calls.append(list(items))
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return list(items)

    group = GroupCommit(write_batch)
    with pytest.raises(ConnectionError):
        group.write("lost")
    assert group.write("next") == "next"
    assert calls == [["lost"], ["next"]]


def test_a_batch_takes_at_most_its_limit_and_the_rest_follow():
    writer = Writer()
    group = GroupCommit(writer, limit=4)
    later = [f"w{n}" for n in range(10)]
    outcomes = _write_while_held(writer, group, later)
    assert outcomes == ["FIRST", *(item.upper() for item in later)]
    assert [len(batch) for batch in writer.batches] == [1, 4, 4, 2]
    assert sorted(item for batch in writer.batches[1:] for item in batch) == sorted(later)


def test_many_threads_writing_at_once_each_get_their_own_result():
    writer = Writer()
    group = GroupCommit(writer)
    items = [f"item{n}" for n in range(400)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(group.write, items))
    assert results == [item.upper() for item in items]
    written = [item for batch in writer.batches for item in batch]
    assert sorted(written) == sorted(items)  # every item exactly once
    assert group.queued == 0


def test_a_caller_queued_behind_a_stuck_batch_gives_up_and_is_never_written():
    writer = Writer()
    group = GroupCommit(writer, patience=0.2)
    writer.hold.clear()  # the database stops answering inside the first batch
    with ThreadPoolExecutor(2) as pool:
        stuck = pool.submit(group.write, "stuck")
        assert writer.inside.wait(WAIT)
        with pytest.raises(TimeoutError):
            group.write("queued")
        assert group.queued == 0  # it took itself off the queue
        writer.hold.set()
        assert stuck.result(WAIT) == "STUCK"
    assert group.write("after") == "AFTER"  # the group goes on
    assert writer.batches == [["stuck"], ["after"]]


def test_a_caller_whose_own_batch_is_stuck_gives_up_and_the_batch_still_ends():
    gates = [threading.Event(), threading.Event()]  # one per batch: set = it may end
    batches: list[list[str]] = []
    started = threading.Semaphore(0)

    def write_batch(items: Sequence[str]) -> list[str]:
        batches.append(list(items))
        started.release()
        assert gates[min(len(batches), 2) - 1].wait(WAIT)
        return [item.upper() for item in items]

    group = GroupCommit(write_batch, patience=0.3)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(group.write, "first")
        assert started.acquire(timeout=WAIT)
        leader = pool.submit(group.write, "lead")
        _wait_queued(group, 1)
        follower = pool.submit(group.write, "follow")
        _wait_queued(group, 2)
        gates[0].set()  # the first batch ends; "lead" writes the next with "follow" in it
        assert first.result(WAIT) == "FIRST"
        assert started.acquire(timeout=WAIT)
        assert batches[1] == ["lead", "follow"]  # the second batch sticks with both in it
        with pytest.raises(TimeoutError):
            follower.result(WAIT)  # it gives up (its write may yet land)
        gates[1].set()
        assert leader.result(WAIT) == "LEAD"
    assert group.write("after") == "AFTER"  # no one is left holding the lead
    assert batches[2] == ["after"]
