"""The one background mechanism: a thread pool whose results return on the GUI thread."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], object]


class _Relay(QObject):
    """Lives on the GUI thread; workers emit its signals, which Qt queues to that thread."""

    succeeded = Signal(int, object)
    failed = Signal(int, object)


class _Job(QRunnable):
    def __init__(self, relay: _Relay, job_id: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._relay, self._job_id, self._fn = relay, job_id, fn

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:  # every failure reaches the GUI as a value
            self._relay.failed.emit(self._job_id, error)
        else:
            self._relay.succeeded.emit(self._job_id, result)


class TaskRunner(QObject):
    """Runs blocking calls off the GUI thread and calls back on the GUI thread."""

    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None, max_threads: int = 16) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Callback | None, Callback | None]] = {}
        self._relay.succeeded.connect(self.on_relay_succeeded)
        self._relay.failed.connect(self.on_relay_failed)

    @property
    def pending(self) -> int:
        """How many submitted jobs have not reported back yet."""
        return len(self._pending)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callback | None = None,
        on_error: Callback | None = None,
    ) -> int:
        """Run fn on the pool; on_done(result) or on_error(exception) runs on the GUI thread."""
        job_id = next(self._ids)
        self._pending[job_id] = (on_done, on_error)
        self._pool.start(_Job(self._relay, job_id, fn))
        self.busy_changed.emit(len(self._pending))
        return job_id

    def wait(self, timeout_ms: int = 2000) -> bool:
        """Wait for running jobs to finish (for shutdown); True when all finished."""
        return self._pool.waitForDone(timeout_ms)

    @Slot(int, object)
    def on_relay_succeeded(self, job_id: int, result: object) -> None:
        on_done, _ = self._pending.pop(job_id, (None, None))
        self.busy_changed.emit(len(self._pending))
        if on_done is not None:
            on_done(result)

    @Slot(int, object)
    def on_relay_failed(self, job_id: int, error: object) -> None:
        _, on_error = self._pending.pop(job_id, (None, None))
        self.busy_changed.emit(len(self._pending))
        if on_error is not None:
            on_error(error)
        else:
            log.error("background job failed: %s", error)
