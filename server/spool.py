"""A local file for events that arrive while the database is down, written to it when it returns.

Each process appends to a file of its own (JSON lines, flushed and fsynced before Twilio gets
its 2xx), held under an exclusive flock while the process lives. Replay goes in file order;
while anything waits in the spool, new events queue behind it, so the order holds. A process
that starts finds the files of processes that died (their locks are gone) and replays them too,
and live processes look for such files again on every round of their drain.

A record the database refuses for its data (write() raises Refused), or a line that is not
JSON, would stop the replay at it for ever: it is set aside in dead-letters.jsonl next to the
spool files, with the reason, and the replay goes on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_BYTES = 1 << 30  # 1 GiB: about 2 million callbacks, or ~5 h of a 100-callback/s desk
PATTERN = "spool-*.jsonl"
ABANDONED_SECONDS = 60.0  # a spool still unnamed this long after it was made: its process died
DEAD_LETTERS = "dead-letters.jsonl"  # records the database refused, each with why
ORPHANS_LOCK = "orphans.lock"  # held by the one process replaying dead processes' spools


class SpoolFull(OSError):
    """The spool reached its size limit: the event cannot be kept."""


class Refused(Exception):
    """The database refused this record for its data: retrying it would never succeed."""


Record = dict[str, Any]


class Spool:
    """This process's spool file; append() while the database is down, drain() when it is up."""

    def __init__(self, directory: Path | str, max_bytes: int = MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        name = f"spool-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        self.path = self.directory / name
        self._lock = threading.Lock()
        # Locked before it has its name: another process replaying dead processes' spools
        # must never find this one unlocked (and take it for a dead one's).
        starting = self.directory / f".{name}.new"
        self._file = open(starting, "a+b")  # noqa: SIM115 - held open for the process's life
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        starting.rename(self.path)
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
            descriptor = self._file.fileno()  # unbuffered: nothing of a failed line lingers
            try:
                left = memoryview(line)
                while left:  # appended (the file is opened for appending)
                    left = left[os.write(descriptor, left) :]
                os.fsync(descriptor)
            except OSError:  # a disk full mid-line: no half line may stay for the next to join
                os.ftruncate(descriptor, self._size)
                raise
            self._size += len(line)

    def drain(self, write: Callable[[Record], object]) -> int:
        """Write waiting events in order with write(); stop at the first failure (it is raised),
        except a record refused for its data, which is set aside (see the module doc).

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
            written += _replay(line, write, self.directory, self.path.name)
            with self._lock:
                self._offset += len(line)

    def close(self) -> None:
        """Close the file; it is removed when nothing waits in it."""
        with self._lock:
            empty = not self.pending
            self._file.close()
        if empty:
            self.path.unlink(missing_ok=True)


def _replay(line: bytes, write: Callable[[Record], object], directory: Path, source: str) -> int:
    """Write one spooled line; 1 when written, 0 when set aside as a dead letter."""
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:  # a torn or damaged line
        set_aside(directory, source, {"line": line.decode("utf-8", "replace")}, error)
        return 0
    try:
        write(record)
    except Refused as error:
        set_aside(directory, source, {"record": record}, error)
        return 0
    return 1


def set_aside(directory: Path, source: str, entry: dict[str, Any], error: BaseException) -> None:
    """Append a record that cannot be written to the dead letters, with why, and warn."""
    path = directory / DEAD_LETTERS
    reason = str(error) or type(error).__name__
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    letter = {"at": stamp, "spool": source, "reason": reason, **entry}
    text = json.dumps(letter, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    with open(path, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # processes append whole lines, one at a time
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    log.warning("a spooled event cannot be written (%s); it is set aside in %s", reason, path)


@contextlib.contextmanager
def _locked(path: Path, mode: str = "rb") -> Iterator[Any]:
    """path opened and exclusively locked, or None when another process holds it (or it is gone:
    a file replayed and deleted since it was listed is not the one at its path any more)."""
    try:
        handle = open(path, mode)  # noqa: SIM115
    except OSError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except OSError:
            same = False
        yield handle if same else None


def _age(path: Path) -> float:
    """Seconds since path last changed (0 when it is gone)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def drain_orphans(
    directory: Path | str, write: Callable[[Record], object], own: Path | None = None
) -> int:
    """Replay the spool files of processes that died; each is deleted once written.

    One process at a time does it (under orphans.lock); another finds it busy and returns 0.
    A failure is raised, and the file kept whole: its next replay writes again what was
    written already. Callbacks are recognised and skipped; an action's audit row and event,
    kept while the database was away, are written again (a replay cut short is rare: the
    database went away during it, or the process died). A spool that was still being
    created a minute later (.spool-….new, unlocked: its process died starting) holds nothing
    and is removed.
    """
    directory = Path(directory)
    written = 0
    with _locked(directory / ORPHANS_LOCK, "ab") as busy:
        if busy is None:
            return 0
        for starting in directory.glob(f".{PATTERN}.new"):
            if _age(starting) < ABANDONED_SECONDS:
                continue  # being made: its process locks and names it within a moment
            with _locked(starting) as handle:
                if handle is not None:
                    starting.unlink(missing_ok=True)
        for path in sorted(directory.glob(PATTERN)):
            if own is not None and path == own:
                continue
            with _locked(path) as handle:
                if handle is None:
                    continue
                count = sum(_replay(line, write, directory, path.name) for line in handle)
                path.unlink(missing_ok=True)
            written += count
            if count:
                log.info("replayed %d spooled event(s) from %s", count, path.name)
    return written
