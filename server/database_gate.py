"""Whether this process tries the database now: a failed attempt closes the gate, a probe opens it.

While the database is away, the first request that finds it so waits its timeout; the rest go
straight to the spool (or the last routes read, or a 503 from the team API) instead of each
waiting again. A background probe connects every PROBE_SECONDS and checks the schema; once the
database answers with a schema this program serves, the gate opens and its listeners run (the
spool drains, in order). A worker that starts while the database is away starts closed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from server.database import Database, DatabaseError
from server.migrations import SchemaError, check_schema

log = logging.getLogger(__name__)

PROBE_SECONDS = 0.5  # how often a closed gate looks whether the database is back
NOT_CHECKED = "the database has not been checked yet"


class DatabaseGate:
    """Open while the database answers with a schema this program serves; see the module doc."""

    def __init__(self, database: Database, probe_seconds: float = PROBE_SECONDS) -> None:
        self.database = database
        self.probe_seconds = probe_seconds
        self._open = threading.Event()
        self._problem = NOT_CHECKED
        self._listeners: list[Callable[[], object]] = []
        self._wake = threading.Event()
        self._suspect = threading.Event()  # a busy pool: is the database still there?
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """Whether requests should try the database."""
        return self._open.is_set()

    @property
    def problem(self) -> str:
        """Why the gate is closed ('' when open); never holds the password."""
        return "" if self.ready else self._problem

    def on_ready(self, listener: Callable[[], object]) -> None:
        """Call listener (on the probe's thread) each time the gate opens."""
        self._listeners.append(listener)

    def check(self) -> bool:
        """Connect and check the schema now; whether the gate is open. SchemaError when the
        database answers with a schema this program cannot serve (the gate stays closed)."""
        try:
            with self.database.connect() as connection:
                check_schema(connection)
        except DatabaseError as error:
            self._close(str(error))
            return False
        except psycopg.Error as error:  # lost while checking
            self._close(str(self.database.error(error, "cannot be reached")))
            return False
        except SchemaError as error:
            self._close(str(error))
            raise
        if not self.ready:
            if self._problem != NOT_CHECKED:
                log.info("the database answers again: writing to it")
            self.database.check_idle()  # connections kept idle died with the old server
            self._open.set()
            for listener in self._listeners:
                try:
                    listener()
                except Exception:
                    log.exception("a database gate listener failed")
        return True

    def trip(self, error: BaseException | str) -> None:
        """A request found the database unreachable: close until the probe sees it back.

        A deadlock is no sign of an outage: nothing changes. A pool with no connection free in
        time may be busy rather than cut off: the probe connects at once to tell, and closes
        the gate only if the database does not answer.
        """
        if getattr(error, "conflict", False):
            return
        if getattr(error, "busy", False):
            self._suspect.set()
            self._wake.set()
            return
        if self._close(str(error)):
            log.warning("%s; events go to the spool until it answers again", error)

    def start(self) -> DatabaseGate:
        """Start the probe thread."""
        self._thread = threading.Thread(target=self._run, name="database-gate", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the probe thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _close(self, problem: str) -> bool:
        """Close the gate; whether it was open."""
        self._problem = problem
        was_open = self.ready
        self._open.clear()
        self._wake.set()
        return was_open

    def _run(self) -> None:
        reported = ""
        while not self._stop.is_set():
            if self.ready:
                self._wake.wait()
                self._wake.clear()
                if not (self._suspect.is_set() and self.ready):
                    continue
            self._suspect.clear()
            try:
                self.check()
            except SchemaError as error:
                if str(error) != reported:
                    log.error("the team API waits for a schema this server serves: %s", error)
                reported = str(error)
            except Exception:
                log.exception("checking the database failed")
            if not self.ready:
                self._stop.wait(self.probe_seconds)
