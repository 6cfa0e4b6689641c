"""A local file for events that arrive while the database is down, written to it when it returns.

Each process appends to a file of its own (JSON lines, flushed and fsynced before Twilio gets
its 2xx), held under an exclusive flock while the process lives. Replay goes in file order;
while anything waits in the spool, new events queue behind it, so the order holds. A process
that starts finds the files of processes that died (their locks are gone) and replays them too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_BYTES = 1 << 30  # 1 GiB: about 2 million callbacks, or ~5 h of a 100-callback/s desk
PATTERN = "spool-*.jsonl"


class SpoolFull(OSError):
    """The spool reached its size limit: the event cannot be kept."""


Record = dict[str, Any]


class Spool:
    """This process's spool file; append() while the database is down, drain() when it is up."""

    def __init__(self, directory: Path | str, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.path = self.directory / f"spool-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        self._lock = threading.Lock()
        self._file = open(self.path, "a+b")  # noqa: SIM115 - held open for the process's life
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._offset = 0  # bytes already replayed
        self._size = 0

    @property
    def pending(self) -> bool:
        """Whether events wait to be written (new ones must queue behind them)."""
        return self._size > self._offset

    def append(self, record: Record) -> None:
        """Keep one event on disk (fsynced) before it is acknowledged."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._size + len(line) > self.max_bytes:
                raise SpoolFull(f"the spool {self.path} is full ({self.max_bytes} bytes)")
            self._file.seek(0, os.SEEK_END)
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._size += len(line)

    def drain(self, write: Callable[[Record], object]) -> int:
        """Write waiting events in order with write(); stop at the first failure (it is raised).

        Returns how many were written. Once all are, the file is emptied.
        """
        written = 0
        while True:
            with self._lock:
                if not self.pending:
                    self._file.truncate(0)
                    self._offset = self._size = 0
                    return written
                self._file.seek(self._offset)
                line = self._file.readline()
            write(json.loads(line))
            written += 1
            with self._lock:
                self._offset += len(line)

    def close(self) -> None:
        """Close the file; it is removed when nothing waits in it."""
        with self._lock:
            empty = not self.pending
            self._file.close()
        if empty:
            self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def _orphan(path: Path) -> Iterator[Any]:
    """An orphaned spool file, locked, or None when its process still holds it."""
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except OSError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield None
            return
        yield handle


def drain_orphans(
    directory: Path | str, write: Callable[[Record], object], own: Path | None = None
) -> int:
    """Replay the spool files of processes that died; each is deleted once written."""
    written = 0
    for path in sorted(Path(directory).glob(PATTERN)):
        if own is not None and path == own:
            continue
        with _orphan(path) as handle:
            if handle is None:
                continue
            for line in handle:
                write(json.loads(line))
                written += 1
            path.unlink(missing_ok=True)
            log.info("replayed %d spooled event(s) from %s", written, path.name)
    return written
