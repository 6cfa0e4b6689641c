"""The calls-per-second queue: order, spacing, estimates, leaving the line and closing."""

from __future__ import annotations

import itertools
import threading

import pytest

from sandbox.call_queue import CallQueue
from sandbox.clock import Clock


def wait_in_threads(queue: CallQueue, sids: list[str]) -> tuple[dict, list, list]:
    """Each sid waits for its turn on its own thread (started last to first).

    Returns (outcome by sid, (sid, start) in start order, the threads).
    """
    outcomes: dict[str, bool] = {}
    order: list[tuple[str, object]] = []
    lock = threading.Lock()

    def wait(sid: str) -> None:
        went = queue.wait_turn(sid)
        with lock:
            outcomes[sid] = went
            if went:
                order.append((sid, queue._clock.now()))

    threads = [threading.Thread(target=wait, args=(sid,)) for sid in reversed(sids)]
    for thread in threads:
        thread.start()
    return outcomes, order, threads


def test_calls_start_in_line_order_one_interval_apart():
    clock = Clock(speed=200)  # 1 call a simulated second: 5 ms apart in real time
    queue = CallQueue(clock, rate=1.0)
    sids = [f"CA{n}" for n in range(4)]
    estimates = [queue.join(sid) for sid in sids]
    assert estimates[0] == 0 and estimates[1:] == pytest.approx([1, 2, 3], abs=0.2)
    outcomes, order, threads = wait_in_threads(queue, sids)
    for thread in threads:
        thread.join(5)
    assert outcomes == dict.fromkeys(sids, True)
    assert [sid for sid, _ in order] == sids  # threads started in reverse; calls in line order
    gaps = [(b - a).total_seconds() for (_, a), (_, b) in itertools.pairwise(order)]
    assert all(gap >= 0.99 for gap in gaps)


def test_a_call_that_leaves_the_line_or_a_closed_queue_lets_its_waiter_go():
    queue = CallQueue(Clock(speed=1), rate=0.01)  # the second call would wait 100 s
    for sid in ("CA1", "CA2", "CA3"):
        queue.join(sid)
    outcomes, _, threads = wait_in_threads(queue, ["CA1", "CA2", "CA3"])
    threads[-1].join(5)  # CA1 (started last) goes at once
    assert queue.leave("CA2") is True and queue.leave("CA2") is False
    threads[1].join(5)
    queue.close()
    threads[0].join(5)
    assert outcomes == {"CA1": True, "CA2": False, "CA3": False}
    assert queue.waiting() == []


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        CallQueue(Clock(), rate=0)
    with pytest.raises(ValueError):
        CallQueue(Clock()).set_rate(-1)
