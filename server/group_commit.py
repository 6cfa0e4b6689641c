"""Group commit: writes that arrive while one batch is being written go together in the next.

A request thread that finds no batch in flight writes its own record at once (alone, so a
quiet server adds no wait). Records that arrive meanwhile queue up; when the batch ends, the
first of them leads the next batch, with everything queued behind it. Each caller returns
only once its own record is written, with its own result or error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

BATCH_LIMIT = 64  # records in one batch, at most
PATIENCE = 5.0  # seconds a queued caller waits for its batch before it gives up (TimeoutError)

# write_batch(items) returns one result per item, in order: a value, or the exception that
# item alone raised. An exception it raises itself fails every item of the batch.
BatchWriter = Callable[[Sequence[Item]], Sequence[Result | BaseException]]


class _Waiting(Generic[Item, Result]):
    """One caller's item, and the lock it sleeps on until its batch is written (held from
    the start, released by whoever wrote the batch or hands it the lead: a bare lock wakes
    one sleeper for less than an Event does)."""

    __slots__ = ("error", "item", "leads", "result", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.wake = threading.Lock()
        self.wake.acquire()
        self.leads = False
        self.result: Result | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Writes items in batches through write_batch, one batch at a time."""

    def __init__(
        self, write_batch: BatchWriter, limit: int = BATCH_LIMIT, patience: float = PATIENCE
    ) -> None:
        self._write_batch = write_batch
        self._limit = max(1, limit)
        self._patience = patience
        self._lock = threading.Lock()
        self._queue: list[_Waiting[Item, Result]] = []
        self._busy = False  # a batch is being written; the queue waits for its end

    @property
    def queued(self) -> int:
        """Items waiting for the batch being written to end."""
        with self._lock:
            return len(self._queue)

    def write(self, item: Item) -> Result | None:
        """Write item (with whatever else is queued); its result, or raise its error.

        TimeoutError when a batch ahead of it has not ended within the patience: a write stuck
        in the database then holds only its own batch's callers. One still queued is taken
        off the queue and never written; one whose batch was already being written may yet
        be written (whoever retries it must not mind a second write).
        """
        mine: _Waiting[Item, Result] = _Waiting(item)
        with self._lock:
            self._queue.append(mine)
            mine.leads = not self._busy
            self._busy = True
        if not mine.leads and not mine.wake.acquire(timeout=self._patience):
            with self._lock:  # the lead is handed over under this lock: no race with it
                if not mine.leads:
                    if mine in self._queue:
                        self._queue.remove(mine)
                    raise TimeoutError(f"no write for {self._patience:g} s")
        if mine.leads:
            self._lead()
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _lead(self) -> None:
        """Write the next batch (the leader's own item is its first), then hand over."""
        with self._lock:
            batch = self._queue[: self._limit]
            del self._queue[: self._limit]
        try:
            results = self._write_batch([waiting.item for waiting in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for a batch of {len(batch)}")
            for waiting, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    waiting.error = result
                else:
                    waiting.result = result
        except BaseException as error:  # every item learns it; the leader raises it too
            for waiting in batch:
                waiting.error = error
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.leads = True
                    following.wake.release()
                else:
                    self._busy = False
            for waiting in batch:
                if waiting.leads:  # the leader: awake already
                    waiting.leads = False
                else:
                    waiting.wake.release()
