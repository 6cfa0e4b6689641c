"""Housekeeping each server process does: stale presence and claims, and the event log's window."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from server import event_log, presence, waiting_line
from server.database import Database, DatabaseError
from server.database_gate import DatabaseGate

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0  # how often dead streams and timed-out claims are looked for
PRUNE_SECONDS = 600.0  # how often events older than the window are removed


class Maintenance:
    """A daemon thread sweeping presence and claims, and pruning the event log."""

    def __init__(
        self,
        database: Database,
        account: str,
        window: timedelta = event_log.DEFAULT_WINDOW,
        claim_timeout: timedelta = waiting_line.CLAIM_TIMEOUT,
        sweep_seconds: float = SWEEP_SECONDS,
        gate: DatabaseGate | None = None,
    ) -> None:
        self.database, self.account, self.gate = database, account, gate
        self.window, self.claim_timeout, self.sweep_seconds = window, claim_timeout, sweep_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maintenance", daemon=True)

    def start(self) -> Maintenance:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self, prune: bool = False) -> None:
        """One round of housekeeping."""
        with self.database.connection() as connection:
            presence.sweep(connection, self.account)
        with self.database.connection() as connection:
            waiting_line.release_stale(connection, self.account, self.claim_timeout)
        if prune:
            with self.database.connection() as connection:
                gone = event_log.prune(connection, self.account, self.window)
            if gone:
                log.info("removed %d event(s) older than %s from the event log", gone, self.window)

    def _run(self) -> None:
        pruned_at = 0.0
        while not self._stop.wait(self.sweep_seconds):
            if self.gate is not None and not self.gate.ready:
                continue  # the database is away: nothing to sweep until it is back
            prune = time.monotonic() - pruned_at >= PRUNE_SECONDS
            try:
                self.run_once(prune)
                if prune:
                    pruned_at = time.monotonic()
            except DatabaseError as error:
                log.debug("housekeeping waits for the database: %s", error)
                if self.gate is not None:
                    self.gate.trip(error)
            except Exception:
                log.exception("housekeeping failed")
