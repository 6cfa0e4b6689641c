"""Records the webhook's status callbacks in a call history: `switchboard webhook` on its own."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from console.core.calls.history import CallHistory, HistoryError, default_path
from webhook.events import CallStatusEvent, Event

log = logging.getLogger(__name__)


class HistoryRecorder:
    """An on_event for the webhook app that writes each call status callback to the history.

    The database is opened in the process that first records (a worker process after a fork
    opens its own connection), and a broken history is logged once and never stops an answer.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        self._history: CallHistory | None = None
        self._pid = 0
        self._broken = ""

    def __call__(self, event: Event) -> None:
        """Record event if it is a call status callback; anything else is not history."""
        if not isinstance(event, CallStatusEvent) or not event.call_sid:
            return
        try:
            history = self._open()
            if history is not None:
                history.record_event(event)
        except HistoryError as error:
            self._report(str(error))

    def _open(self) -> CallHistory | None:
        with self._lock:
            if self._history is not None and self._pid == os.getpid():
                return self._history
            self._history, self._pid = CallHistory(self.path), os.getpid()
            return self._history

    def _report(self, problem: str) -> None:
        if problem != self._broken:  # once per distinct problem, not once per callback
            self._broken = problem
            log.error("call statuses are not being recorded: %s", problem)

    def close(self) -> None:
        """Close the history this process opened."""
        with self._lock:
            if self._history is not None and self._pid == os.getpid():
                self._history.close()
            self._history = None
