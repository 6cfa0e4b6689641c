"""One LISTEN connection per server process, waking every event stream the process serves.

The hub reads each new event from the log once and keeps the latest ones in memory, so fifty
open streams cost one query per event, not fifty. A stream further behind than that memory
reads the log itself. When the LISTEN connection drops (a database restart), the hub keeps
polling until it is back, and wakes every stream once it is, so no event waits for a NOTIFY
that was never heard.

In a burst of writes (a read finds news within BURST_SECONDS of the one before) the hub stops
listening altogether and reads the log every READ_GAP_SECONDS, until a read finds nothing new:
events reach streams as soon as before, but no commit wakes this process's listening backend
and thread any more (a backend listening on any channel is woken by every NOTIFY). Measured at
16 clients on two processes: PostgreSQL's CPU a stored callback about a fifth lower. A revoked
token is in the log too, so the hub hears of it in either mode.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg_pool import PoolTimeout

from server import event_log
from server.database import Database, DatabaseError
from server.database_url import scrub
from server.event_log import LoggedEvent
from server.kept_connection import KeptConnection

log = logging.getLogger(__name__)

KEPT = 5000  # recent events kept in memory for streams to read
POLL_SECONDS = 2.0  # a safety net: look at the log this often even without a NOTIFY
RETRY_SECONDS = 1.0  # wait between reconnection attempts
READ_GAP_SECONDS = 0.01  # in a burst of writes, read the log at most this often (one query each)
BURST_SECONDS = 0.05  # a read with news this soon after the one before: poll while it lasts
READ_TIMEOUT = 3.0  # seconds to wait for a pooled connection to read the log
STOP_CHECK_SECONDS = 0.2  # longest wait for a NOTIFY before looking whether to stop


class EventHub:
    """Follows one account's event log for this process; streams wait on it for new events."""

    def __init__(
        self,
        database: Database,
        account: str,
        on_events: Callable[[list[LoggedEvent]], object] | None = None,
    ) -> None:
        self.database = database
        self.account = account
        self._on_events = on_events  # called on the hub's thread with each batch it reads
        self._condition = threading.Condition()
        self._recent: collections.deque[LoggedEvent] = collections.deque(maxlen=KEPT)
        self._floor = -1  # every event with floor < id <= last is in _recent (-1: not started)
        self._last = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader = KeptConnection(database.pool)  # the hub's thread alone reads with it
        self.connected = threading.Event()  # whether LISTEN is in force right now
        self.revoked: set[int] = set()  # operators whose tokens were revoked since the start

    def start(self) -> None:
        """Start following the log on a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="event-hub", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop following and wake every waiting stream."""
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)
        self._reader.close(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Wake every waiting stream (e.g. to re-check its operator)."""
        with self._condition:
            self._condition.notify_all()

    @property
    def last_id(self) -> int:
        """The newest event id this process has read."""
        return self._last

    def events_after(self, last_id: int) -> list[LoggedEvent] | None:
        """The events after last_id from memory, or None when memory does not reach back."""
        with self._condition:
            if self._floor < 0 or last_id < self._floor:
                return None
            if last_id >= self._last:
                return []
            return [event for event in self._recent if event.id > last_id]

    def wait_after(self, last_id: int, timeout: float) -> None:
        """Block until an event newer than last_id is known, or timeout, or the hub stops."""
        with self._condition:
            self._condition.wait_for(
                lambda: self._last > last_id or self._stop.is_set(), timeout=timeout
            )

    # -- the listening thread ---------------------------------------------------------------

    def _run(self) -> None:
        lost_once = False
        while not self._stop.is_set():
            try:
                connection = self.database.connect(autocommit=True)
            except DatabaseError as error:
                log.warning("event hub: %s; retrying", error)
                self._stop.wait(RETRY_SECONDS)
                continue
            if lost_once:
                self.database.check_idle()  # the pool's idle connections died with the server
            try:
                with connection:
                    connection.execute(f"LISTEN {event_log.CHANNEL}")
                    self.connected.set()
                    self._catch_up()
                    self._listen(connection)
            except psycopg.Error as error:
                lost_once = True
                if not self._stop.is_set():
                    shown = scrub(str(error), self.database.url)
                    log.warning("event hub lost the database (%s); reconnecting", shown)
            finally:
                self.connected.clear()
            self._stop.wait(RETRY_SECONDS)

    def _listen(self, connection: psycopg.Connection) -> None:
        """Read the log when a NOTIFY comes: at once after a quiet spell, and in a burst of
        writes at most every READ_GAP_SECONDS, so one query reads what gathered meanwhile
        (a query per event would cost every process as much as the writes themselves)."""
        deadline = time.monotonic() + POLL_SECONDS
        read_at = 0.0
        while not self._stop.is_set():
            timeout = min(STOP_CHECK_SECONDS, max(0.01, deadline - time.monotonic()))
            woken = False
            for note in connection.notifies(timeout=timeout, stop_after=1):
                woken = True
                self._note(note.payload)
            if woken:
                gap = read_at + READ_GAP_SECONDS - time.monotonic()
                if gap > 0:  # the last read was a moment ago: let the burst gather
                    time.sleep(gap)
                for note in connection.notifies(timeout=0.0):  # what arrived meanwhile
                    self._note(note.payload)
            if woken or time.monotonic() >= deadline:
                since, read_at = time.monotonic() - read_at, time.monotonic()
                if self._catch_up() and woken and since < BURST_SECONDS:
                    self._poll_burst(connection)
                    read_at = time.monotonic()
                deadline = time.monotonic() + POLL_SECONDS

    def _poll_burst(self, connection: psycopg.Connection) -> None:
        """Not listening, read the log every READ_GAP_SECONDS until a read finds nothing new;
        then listen again, and read once more for what came in between."""
        connection.execute("UNLISTEN *")
        try:
            while not self._stop.wait(READ_GAP_SECONDS) and self._catch_up():
                pass
        finally:
            connection.execute(f"LISTEN {event_log.CHANNEL}")
        self._catch_up()

    def _note(self, payload: str) -> None:
        kind, _, rest = payload.partition(" ")
        if kind == "revoked":
            self.revoked.add(int(rest))
            self.wake()

    def _catch_up(self) -> int:
        """Read the new events on a pooled connection the hub keeps (the same warm database
        backend every time, as the status writer's: server/kept_connection.py).

        Never on the LISTEN connection: psycopg drops a notification that arrives while that
        connection runs a query, and the event would wait for the next poll.
        """
        try:
            return self._reader.run(self._read_new, timeout=READ_TIMEOUT)
        except (PoolTimeout, psycopg.OperationalError) as error:
            shown = scrub(str(error), self.database.url)
            log.info("event hub could not read the log (%s); trying again", shown)
            return 0

    def _read_new(self, connection: psycopg.Connection) -> int:
        """Read the events after the last one read; how many there were."""
        if self._floor < 0:
            with self._condition:
                self._last = self._floor = event_log.head(connection, self.account)
                self._condition.notify_all()  # a stream already waiting reads what came first
            return 0
        count = 0
        while True:
            events = event_log.after(connection, self.account, self._last)
            count += len(events)
            if not events:
                return count
            self.revoked.update(e.data["id"] for e in events if e.kind == event_log.REVOKED)
            with self._condition:
                if len(events) + len(self._recent) > KEPT:
                    drop = len(events) + len(self._recent) - KEPT
                    dropped = [self._recent.popleft() for _ in range(min(drop, len(self._recent)))]
                    if dropped:
                        self._floor = dropped[-1].id
                self._recent.extend(events)
                self._last = events[-1].id
                self._condition.notify_all()
            if self._on_events is not None:
                try:
                    self._on_events(events)
                except Exception:
                    log.exception("an event hub listener failed")
            if len(events) < event_log.READ_BATCH:
                return count
