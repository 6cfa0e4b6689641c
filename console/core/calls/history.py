"""Call history in SQLite (WAL): every call and status as it arrives, searchable, exportable."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import platformdirs

from console.core.calls.history_schema import SCHEMA_VERSION, TEXT_COLUMNS, UpgradeProgress, upgrade
from console.core.calls.history_store import (
    CSV_COLUMNS,
    DEFAULT_LIMIT,
    EXPORT_BATCH,
    FIELDS,
    HistoryEntry,
    HistoryReader,
    HistoryStore,
    Progress,
    Statuses,
    StatusRecord,
    csv_cells,
    stamp,
    status_call,
    write_csv,
)
from console.core.calls.records import FINAL_CALL_STATUSES, Call
from console.core.calls.text_fold import fold, needs_folding
from webhook.events import CallStatusEvent

__all__ = [  # the interface's names, for those who import them from here
    "CSV_COLUMNS",
    "DEFAULT_LIMIT",
    "EXPORT_BATCH",
    "SCHEMA_VERSION",
    "CallHistory",
    "HistoryEntry",
    "HistoryError",
    "HistoryReader",
    "HistoryStore",
    "StatusRecord",
    "csv_cells",
    "default_path",
    "status_call",
    "write_csv",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
FILE_NAME = "history.sqlite3"
BUSY_TIMEOUT = 5.0  # seconds to wait for another process (CLI, window) holding the write lock
# A call's life, in order; a late or duplicate callback never moves a call backwards.
_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "answered": 2}
_FINAL_RANK = 3
MIN_INDEXED_TEXT = 3  # trigrams: shorter text is matched by a scan
FTS_CANDIDATES = 5000  # more matches than this: read newest first and match each (see search)
TABLES = ("calls", "call_statuses")
PRIVATE = 0o600  # the history holds phone numbers: only its owner reads it
_SELECT = ", ".join(f'"{name}"' for name in FIELDS)  # the columns this version knows, no others
# One call's searchable text, as the scan matches it when LIKE's ASCII folding is not enough.
_FOLDED_TEXT = "switchboard_fold(" + " || char(31) || ".join(TEXT_COLUMNS.split(", ")) + ")"


class HistoryError(Exception):
    """The history file cannot be opened, read or written; the message names the file."""


def default_path() -> Path:
    """Where the operator's history lives: the platformdirs user data dir."""
    return Path(platformdirs.user_data_dir("switchboard")) / FILE_NAME


def _make_private(path: Path) -> None:
    """Create the history file (and its WAL and SHM) owner-only, and tighten ones left open."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.exists() and name.stat().st_mode & 0o777 != PRIVATE:
                name.chmod(PRIVATE)
        except OSError as error:  # someone else's file: reading it is still possible
            log.warning("cannot make %s private: %s", name, error.strerror)


def _writable_problem(path: Path) -> str:
    """Why the history at path cannot be written, in words, or '' when nothing is seen."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only, so the call history cannot be written there"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the call history {path} is read-only"
    return ""


def _rank(status: str) -> int:
    return _FINAL_RANK if status in FINAL_CALL_STATUSES else _RANK.get(status, -1)


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Run under the connection lock; sqlite errors become HistoryError naming the file."""

    @functools.wraps(method)
    def wrapper(self: CallHistory, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as error:
                raise HistoryError(f"Call history {self.path}: {error}") from None

    return wrapper


class CallHistory:
    """The call history database: safe to share between threads (one connection, one lock).

    Durability: WAL with synchronous=NORMAL. A commit appends to the WAL with write() before
    the call returns, so once a method returns its row survives the process being killed
    (kill -9); only an OS crash or power cut can lose the last commits (never corrupt the file).
    Pass synchronous="FULL" to fsync every commit and survive those too.

    Opening a history an older Switchboard wrote upgrades it in place; progress hears
    (calls done, calls in all) as a long step (building the search index) goes.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        synchronous: str = "NORMAL",
        progress: UpgradeProgress | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise HistoryError(
                f"Cannot open the call history {self.path}: cannot create its folder "
                f"({error.strerror or error})"
            ) from None
        problem = _writable_problem(self.path)
        if problem:
            raise HistoryError(problem[0].upper() + problem[1:] + ".")
        try:
            _make_private(self.path)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as error:
            raise HistoryError(f"Cannot open the call history {self.path}: {error}") from None
        try:
            self._prepare(synchronous.upper(), progress)
        except BaseException as error:
            self._db.close()  # rolls back an upgrade cut short: the file stays as it was
            if not isinstance(error, sqlite3.Error):
                raise
            if "locked" in str(error):
                raise HistoryError(
                    f"The call history {self.path} is locked by another program ({error}); "
                    "try again when it has finished."
                ) from None
            raise HistoryError(
                f"The call history {self.path} is unreadable ({error}). It was left as it is; "
                "move it aside to start a new history."
            ) from None

    def _prepare(self, synchronous: str, progress: UpgradeProgress | None) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            log.warning("call history %s: journal mode is %s, not WAL", self.path, mode)
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=ON")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"The call history {self.path} was written by a newer Switchboard "
                f"(schema {version}, this one reads {SCHEMA_VERSION})."
            )
        self._db.create_function("switchboard_fold", 1, fold, deterministic=True)
        upgrade(self._db, self.path, version, progress)
        _make_private(self.path)  # the WAL and SHM files exist now

    @_guarded
    def check_writable(self) -> None:
        """Raise HistoryError unless a call could be recorded now (lock, permissions, tables).

        A row is written to each table and rolled back, so a locked, read-only, damaged or
        incomplete history is found before a call is placed, not after.
        """
        problem = _writable_problem(self.path)
        if problem:
            raise HistoryError(problem[0].upper() + problem[1:] + ".")
        probe = "probe-" + os.urandom(8).hex()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("INSERT INTO calls (sid, created_at) VALUES (?, '')", (probe,))
            self._db.execute(
                "INSERT INTO call_statuses (sid, status, at) VALUES (?, 'probe', '')", (probe,)
            )
        finally:
            self._db.execute("ROLLBACK")

    def close(self) -> None:
        """Close the database (a checkpoint folds the WAL back into the file)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> CallHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing -------------------------------------------------------------------------------

    @_guarded
    def record_call(
        self, call: Call, display_name: str = "", created_at: datetime | None = None
    ) -> None:
        """Record a call placed or received, and its current status; fills gaps on a second call."""
        self._record(call, display_name, created_at or call.placed_at or datetime.now(UTC))

    @_guarded
    def record_status(
        self,
        sid: str,
        status: str,
        at: datetime,
        duration: int | None = None,
        error_code: str = "",
        error_message: str = "",
        sequence: int | None = None,
    ) -> bool:
        """Record one status of a call; False when it was already recorded (duplicate callback)."""
        call = status_call(sid, status, duration, error_code, error_message, sequence)
        return self._record(call, "", at)

    @_guarded
    def record_event(self, event: CallStatusEvent, room: str = "", identity: str = "") -> bool:
        """Record a status callback from the webhook, with the call's From, To and Direction."""
        if not event.call_sid or not event.status:
            return False
        try:
            at = parsedate_to_datetime(event.get("Timestamp"))
        except (TypeError, ValueError):
            at = datetime.now(UTC)
        duration, sequence = event.get("CallDuration"), event.get("SequenceNumber")
        call = Call(
            sid=event.call_sid,
            to=event.get("To"),
            from_=event.get("From"),
            status=event.status,
            direction=event.get("Direction"),
            duration=int(duration) if duration.isdigit() else 0,
            error_code=event.error_code,
            error_message=event.get("ErrorMessage"),
            room=room,
            identity=identity,
            sequence=int(sequence) if sequence.isdigit() else -1,
        )
        return self._record(call, "", at)

    def _record(self, call: Call, display_name: str, when: datetime) -> bool:
        with self._transaction():
            self._upsert(
                call.sid,
                when,
                direction=call.direction,
                from_=call.from_,
                to=call.to,
                room=call.room,
                identity=call.identity,
                display_name=display_name,
            )
            return self._status(call, when) if call.status else False

    def _upsert(self, sid: str, created: datetime, **columns: str) -> None:
        names = [name for name, value in columns.items() if value]
        values = [columns[name] for name in names]
        targets = ", ".join(f'"{name}"' for name in ["sid", "created_at", *names])
        marks = ", ".join("?" for _ in range(len(names) + 2))
        updates = ", ".join(
            ["created_at = min(created_at, excluded.created_at)"]
            + [f'"{name}" = excluded."{name}"' for name in names]
        )
        self._db.execute(
            f"INSERT INTO calls ({targets}) VALUES ({marks}) "
            f"ON CONFLICT (sid) DO UPDATE SET {updates}",
            [sid, stamp(created), *values],
        )

    def _status(self, call: Call, at: datetime) -> bool:
        sid, status = call.sid, call.status
        sequence = call.sequence if call.sequence >= 0 else None
        inserted = self._db.execute(
            "INSERT INTO call_statuses (sid, status, at, sequence) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sid, status) DO NOTHING",
            (sid, status, stamp(at), sequence),
        ).rowcount
        if not inserted and sequence is not None:
            self._db.execute(
                "UPDATE call_statuses SET sequence = ? "
                "WHERE sid = ? AND status = ? AND sequence IS NULL",
                (sequence, sid, status),
            )
        current, final = self._db.execute(
            "SELECT status, final_status FROM calls WHERE sid = ?", (sid,)
        ).fetchone()
        changes: dict[str, object] = {}
        if inserted and not final and _rank(status) >= _rank(current):
            changes["status"] = status
        if inserted and not final and status in FINAL_CALL_STATUSES:
            changes["final_status"] = status
            changes["duration"] = call.duration
        # An error learnt later (Twilio's log, or the reason the console saw) is kept too.
        if call.error_code or call.error_message:
            changes["error_code"], changes["error_message"] = call.error_code, call.error_message
        if changes:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            self._db.execute(
                f"UPDATE calls SET {assignments} WHERE sid = ?", [*changes.values(), sid]
            )
        return bool(inserted)

    # -- reading -------------------------------------------------------------------------------

    @_guarded
    def search(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[HistoryEntry]:
        """Calls newest first, as HistoryReader.search says (text in any script, any case)."""
        return list(self.each_entry(text, status, direction, since, limit))

    def each_entry(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[HistoryEntry]:
        """search()'s calls (every match unless limit says otherwise) one at a time, read
        EXPORT_BATCH at a time: an export of a year of calls stays in flat memory."""
        cursor, names = self._select(text, status, direction, since, limit)
        while batch := self._next_batch(cursor, names):
            yield from batch

    @_guarded
    def _select(
        self, text: str, status: Statuses, direction: str | None, since: datetime | None,
        limit: int | None,
    ) -> tuple[sqlite3.Cursor, list[str]]:  # fmt: skip
        """The search run, its rows not yet read; and the names of its columns."""
        where: list[str] = []
        params: list[object] = []
        newest_first = False  # walk the created_at index instead of sorting the matches
        if text.strip():
            clause, values, newest_first = self._text_filter(text.strip())
            where.append(clause)
            params += values
        if status:
            wanted = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' for _ in wanted)})")
            params += wanted
        if direction:
            where.append("(direction = ? OR direction LIKE ?)")
            params += [direction, direction + "-%"]
        if since is not None:
            where.append("created_at >= ?")
            params.append(stamp(since))
        sql = f"SELECT {_SELECT} FROM calls"
        if newest_first:
            sql += " INDEXED BY calls_by_created"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        cursor = self._db.execute(sql, params)
        return cursor, [column[0] for column in cursor.description]

    @_guarded
    def _next_batch(self, cursor: sqlite3.Cursor, names: list[str]) -> list[HistoryEntry]:
        rows = cursor.fetchmany(EXPORT_BATCH)
        return [_entry(dict(zip(names, row, strict=True))) for row in rows]

    def _text_filter(self, text: str) -> tuple[str, list[object], bool]:
        """The WHERE clause for text, its parameters, and whether to walk newest first.

        The trigram index lists the matching calls; when they are few, those rows are read and
        sorted. When there are many (the text is common), the newest calls are read in order
        and matched one by one instead, which finds a page of results long before sorting all
        of them would (the choice PostgreSQL's planner makes by itself).
        """
        if needs_folding(text):  # LIKE folds ASCII only: match on text folded here
            scan, values = f"instr({_FOLDED_TEXT}, ?) > 0", [fold(text)]
        else:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
            columns = TEXT_COLUMNS.split(", ")
            scan = "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")"
            values = [pattern] * len(columns)
        if len(text) < MIN_INDEXED_TEXT:
            return scan, values, False
        phrase = '"' + text.replace('"', '""') + '"'
        found = self._db.execute(
            "SELECT rowid FROM calls_text WHERE calls_text MATCH ? LIMIT ?",
            (phrase, FTS_CANDIDATES + 1),
        ).fetchall()
        if len(found) > FTS_CANDIDATES:
            return scan, values, True
        rowids = json.dumps([row[0] for row in found])
        return "rowid IN (SELECT value FROM json_each(?))", [rowids], False

    @_guarded
    def statuses_of(self, sid: str) -> list[StatusRecord]:
        """Every status one call went through, oldest first."""
        rows = self._db.execute(
            "SELECT status, at, sequence FROM call_statuses WHERE sid = ? ORDER BY at, rowid",
            (sid,),
        ).fetchall()
        return [StatusRecord(status, datetime.fromisoformat(at), seq) for status, at, seq in rows]

    def export_csv(
        self,
        file: TextIO,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Write the calls these filters find as CSV, a batch at a time (HistoryReader says
        how); open file with newline="". Returns how many calls were written."""
        rows = self.each_entry(text, status, direction, since, limit)
        return write_csv(rows, file, progress=progress)


def _entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(**{**row, "created_at": datetime.fromisoformat(row["created_at"])})
