"""Two thread pools behind one waitress server: Twilio's webhooks on a few, the team API on many.

An open event stream holds a thread for as long as its console is connected, and a team API
call may wait on Twilio for seconds; neither may hold up Twilio's webhooks, so these have
threads of their own. Those are few on purpose: a webhook runs Python from start to end but
for its database round trip, so threads beyond a handful only pass the interpreter lock
around (measured at 16 clients on two processes: about 8 thread switches a stored callback on
one pool of 64 threads, about 4 on these lanes). Requests past them wait in waitress's queue,
which costs no thread.

Few threads must not mean a lane that a hanging database (or a Twilio call that hangs, from a
room callback) can stop: when a request has waited STUCK_SECONDS for a thread, the lane starts
one more, up to the team lane's size, and lets the extra ones go once fewer than its usual
number are busy again.

A connection's request goes to the lane of its path; requests pipelined behind it on the same
connection are answered by the same thread, in order, as waitress always does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from waitress.task import ThreadedTaskDispatcher

from server.stream_slots import THREADS

TWILIO_THREADS = 6  # threads for Twilio's webhooks (and /health), in each process
STUCK_SECONDS = 0.5  # a request waiting this long for a Twilio thread adds one
CHECK_SECONDS = 0.1  # how often the waits are looked at
TEAM_PREFIX = "/team/"  # the team API and its event stream; the rest is Twilio's


class _Queued:
    """A connection handed to a pool, with when it was handed over."""

    __slots__ = ("channel", "since")

    def __init__(self, channel) -> None:
        self.channel = channel
        self.since = time.monotonic()

    def service(self) -> None:
        self.channel.service()

    def cancel(self) -> None:
        self.channel.cancel()


class _Pool(ThreadedTaskDispatcher):
    """waitress's pool, with threads named after their lane and a size that may grow."""

    def __init__(self, name: str, threads: int, most: int | None = None) -> None:
        super().__init__()
        self.name = name
        self.usual = threads
        self.most = max(threads, most or threads)
        self.size = threads
        self.set_thread_count(threads)

    def start_new_thread(self, target: Callable[[int], object], thread_no: int) -> None:
        thread = threading.Thread(target=target, name=f"{self.name}-{thread_no}", args=(thread_no,))
        thread.daemon = True
        thread.start()

    def add_task(self, task) -> None:
        super().add_task(_Queued(task))

    def adjust(self, now: float, stuck: float) -> None:
        """One more thread when the oldest waiting request waited `stuck` seconds; back to the
        usual number once fewer than that are busy and nothing waits."""
        with self.lock:
            waited = now - self.queue[0].since if self.queue else 0.0
            busy, size = self.active_count, self.size
        if waited >= stuck and size < self.most:
            self.size = size + 1
        elif not waited and size > self.usual and busy < self.usual:
            self.size = self.usual
        else:
            return
        self.set_thread_count(self.size)


class Lanes:
    """A waitress task dispatcher that hands each connection's request to its lane's pool."""

    def __init__(
        self,
        twilio_threads: int = TWILIO_THREADS,
        team_threads: int = THREADS,
        stuck: float = STUCK_SECONDS,
    ) -> None:
        self.twilio = _Pool("twilio", twilio_threads, most=team_threads)
        self.team = _Pool("team", team_threads)
        self._stuck = stuck
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_waits, name="lanes", daemon=True)
        self._watch.start()

    def add_task(self, channel) -> None:
        """waitress hands over a connection whose next request has fully arrived."""
        requests = getattr(channel, "requests", None) or [None]
        path = getattr(requests[0], "path", None) or ""
        (self.team if path.startswith(TEAM_PREFIX) else self.twilio).add_task(channel)

    @property
    def active_count(self) -> int:
        """Threads running a request, in both lanes."""
        return self.twilio.active_count + self.team.active_count

    @property
    def queue(self) -> list:
        """Connections waiting for a thread, in both lanes."""
        return [*self.twilio.queue, *self.team.queue]

    def set_thread_count(self, count: int) -> None:
        """waitress's pool interface: only stopping (0) applies to both lanes."""
        if count == 0:
            self._stop.set()
            if self._watch is not threading.current_thread():
                self._watch.join(1.0)  # it may be adding a thread: let it finish first
            self.twilio.set_thread_count(0)
            self.team.set_thread_count(0)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        """Stop both lanes' threads, waiting at most timeout in all."""
        deadline = time.monotonic() + timeout
        self.set_thread_count(0)  # both lanes begin to stop at once
        twilio = self.twilio.shutdown(cancel_pending, timeout)
        team = self.team.shutdown(cancel_pending, max(0.0, deadline - time.monotonic()))
        return twilio and team

    def _watch_waits(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            self.twilio.adjust(time.monotonic(), self._stuck)
