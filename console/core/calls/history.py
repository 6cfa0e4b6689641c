"""Call history in SQLite (WAL): every call and status, written as it arrives, searchable, CSV."""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

import platformdirs

from console.core.calls.records import FINAL_CALL_STATUSES, Call
from webhook.events import CallStatusEvent

log = logging.getLogger(__name__)

T = TypeVar("T")
FILE_NAME = "history.sqlite3"
DEFAULT_LIMIT = 200
Statuses = str | Iterable[str] | None  # one status, several, or any
EXPORT_BATCH = 2000  # calls an export reads at a time
BUSY_TIMEOUT = 5.0  # seconds to wait for another process (CLI, window) holding the write lock
# A call's life, in order; a late or duplicate callback never moves a call backwards.
_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "answered": 2}
_FINAL_RANK = 3
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?!\d+$)")  # spreadsheet formulas, but not "+15551234567"

# Each version's migration, run in order from the file's user_version; append, never edit.
_MIGRATIONS: dict[int, str] = {}
_MIGRATIONS[1] = """
CREATE TABLE IF NOT EXISTS calls (
    sid TEXT PRIMARY KEY,
    direction TEXT NOT NULL DEFAULT '',
    from_ TEXT NOT NULL DEFAULT '',
    "to" TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    final_status TEXT NOT NULL DEFAULT '',
    duration INTEGER,
    error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS calls_by_created ON calls (created_at);
CREATE TABLE IF NOT EXISTS call_statuses (
    sid TEXT NOT NULL REFERENCES calls (sid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    sequence INTEGER,
    PRIMARY KEY (sid, status)
);
"""
# Substring search without a scan: an FTS5 trigram index over the searchable columns, kept in
# step with calls by triggers, and indexes on the filtered columns. Built in place on upgrade.
_TEXT_COLUMNS = 'sid, from_, "to", room, identity, display_name, error_message'
_NEW_TEXT = ", ".join(f"new.{c}" for c in _TEXT_COLUMNS.split(", "))
_OLD_TEXT = ", ".join(f"old.{c}" for c in _TEXT_COLUMNS.split(", "))
_MIGRATIONS[2] = f"""
CREATE VIRTUAL TABLE calls_text USING fts5({_TEXT_COLUMNS},
    content='calls', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER calls_text_insert AFTER INSERT ON calls BEGIN
    INSERT INTO calls_text (rowid, {_TEXT_COLUMNS}) VALUES (new.rowid, {_NEW_TEXT});
END;
CREATE TRIGGER calls_text_delete AFTER DELETE ON calls BEGIN
    INSERT INTO calls_text (calls_text, rowid, {_TEXT_COLUMNS})
    VALUES ('delete', old.rowid, {_OLD_TEXT});
END;
CREATE TRIGGER calls_text_update AFTER UPDATE OF {_TEXT_COLUMNS} ON calls BEGIN
    INSERT INTO calls_text (calls_text, rowid, {_TEXT_COLUMNS})
    VALUES ('delete', old.rowid, {_OLD_TEXT});
    INSERT INTO calls_text (rowid, {_TEXT_COLUMNS}) VALUES (new.rowid, {_NEW_TEXT});
END;
INSERT INTO calls_text (calls_text) VALUES ('rebuild');
CREATE INDEX IF NOT EXISTS calls_by_status ON calls (status, created_at);
CREATE INDEX IF NOT EXISTS calls_by_direction ON calls (direction, created_at);
"""
_MIGRATION_NOTES = {2: "building the text search index (a minute for a million calls)"}
MIN_INDEXED_TEXT = 3  # trigrams: shorter text is matched by a scan
FTS_CANDIDATES = 5000  # more matches than this: read newest first and match each (see search)


SCHEMA_VERSION = max(_MIGRATIONS)
TABLES = ("calls", "call_statuses")
PRIVATE = 0o600  # the history holds phone numbers: only its owner reads it


class HistoryError(Exception):
    """The history file cannot be opened, read or written; the message names the file."""


@dataclass(frozen=True)
class HistoryEntry:
    """One call as the history holds it; status is the latest known, final_status '' until done."""

    sid: str
    direction: str
    from_: str
    to: str
    room: str
    identity: str
    display_name: str
    created_at: datetime
    status: str
    final_status: str
    duration: int | None
    error_code: str
    error_message: str


@dataclass(frozen=True)
class StatusRecord:
    """One status a call went through, when it was first seen, and Twilio's SequenceNumber."""

    status: str
    at: datetime
    sequence: int | None


_FIELDS = tuple(field.name for field in fields(HistoryEntry))
_SELECT = ", ".join(f'"{name}"' for name in _FIELDS)  # the columns this version knows, no others
CSV_COLUMNS = tuple(name.rstrip("_") for name in _FIELDS)  # from_ is "from" in the file


class HistoryStore(Protocol):
    """What a call history answers on either engine: this SQLite file (one desktop), or the
    team's PostgreSQL (server.call_store.PostgresHistory). One test suite runs on both."""

    def record_call(
        self, call: Call, display_name: str = "", created_at: datetime | None = None
    ) -> None: ...

    def record_status(
        self,
        sid: str,
        status: str,
        at: datetime,
        duration: int | None = None,
        error_code: str = "",
        error_message: str = "",
        sequence: int | None = None,
    ) -> bool: ...

    def record_event(self, event: CallStatusEvent, room: str = "", identity: str = "") -> bool: ...

    def search(
        self,
        text: str = "",
        status: str | Iterable[str] | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[HistoryEntry]: ...

    def statuses_of(self, sid: str) -> list[StatusRecord]: ...

    def export_csv(self, rows: Iterable[HistoryEntry], file: TextIO) -> int: ...

    def close(self) -> None: ...


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


def _stamp(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    """

    def __init__(self, path: Path | str | None = None, synchronous: str = "NORMAL") -> None:
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
            self._prepare(synchronous.upper())
        except (sqlite3.Error, HistoryError) as error:
            self._db.close()
            if isinstance(error, HistoryError):
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

    def _prepare(self, synchronous: str) -> None:
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
        for step in range(version + 1, SCHEMA_VERSION + 1):
            if version and step in _MIGRATION_NOTES:  # an existing history: say what takes time
                log.info("call history %s: %s", self.path, _MIGRATION_NOTES[step])
            # On failure __init__ closes the connection, which rolls the transaction back.
            self._db.executescript(
                f"BEGIN IMMEDIATE; {_MIGRATIONS[step]} PRAGMA user_version={step}; COMMIT;"
            )
            log.info("call history %s: schema upgraded to version %d", self.path, step)
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
            [sid, _stamp(created), *values],
        )

    def _status(self, call: Call, at: datetime) -> bool:
        sid, status = call.sid, call.status
        sequence = call.sequence if call.sequence >= 0 else None
        inserted = self._db.execute(
            "INSERT INTO call_statuses (sid, status, at, sequence) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sid, status) DO NOTHING",
            (sid, status, _stamp(at), sequence),
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
        status: str | Iterable[str] | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[HistoryEntry]:
        """Calls newest first: text in any number, room, identity, name, SID or error; filters.

        status matches the latest known status (one or several); direction "outbound" also
        matches Twilio's "outbound-api" and "outbound-dial"; limit None means every call.
        """
        cursor, names = self._select(text, status, direction, since, limit)
        entries: list[HistoryEntry] = []
        while batch := self._next_batch(cursor, names):
            entries += batch
        return entries

    def each_entry(self, **filters: Any) -> Iterator[HistoryEntry]:
        """search()'s calls (its filters; every match unless limit= says otherwise) one at a
        time, read EXPORT_BATCH at a time: an export of a year of calls stays in flat memory."""
        wanted = {"text": "", "status": None, "direction": None, "since": None, "limit": None}
        cursor, names = self._select(**{**wanted, **filters})
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
            params.append(_stamp(since))
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
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        columns = ("sid", "from_", '"to"', "room", "identity", "display_name", "error_message")
        scan = "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")"
        if len(text) < MIN_INDEXED_TEXT:
            return scan, [pattern] * len(columns), False
        phrase = '"' + text.replace('"', '""') + '"'
        found = self._db.execute(
            "SELECT rowid FROM calls_text WHERE calls_text MATCH ? LIMIT ?",
            (phrase, FTS_CANDIDATES + 1),
        ).fetchall()
        if len(found) > FTS_CANDIDATES:
            return scan, [pattern] * len(columns), True
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

    def export_csv(self, rows: Iterable[HistoryEntry], file: TextIO) -> int:
        """Write rows as CSV with a header (open file with newline=""); returns the row count."""
        return write_csv(rows, file)


def status_call(
    sid: str,
    status: str,
    duration: int | None = None,
    error_code: str = "",
    error_message: str = "",
    sequence: int | None = None,
) -> Call:
    """One status of a call as a Call record, as record_status stores it on either engine."""
    seq = -1 if sequence is None else sequence
    code = str(error_code) if error_code else ""
    return Call(sid, "", "", status, "", duration or 0, code, error_message, sequence=seq)


def _entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(**{**row, "created_at": datetime.fromisoformat(row["created_at"])})


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (phone numbers stay as they are)."""
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA.match(text) else text


def csv_cells(entry: HistoryEntry) -> list[str]:
    """One history row's CSV cells, in CSV_COLUMNS order."""
    values = [getattr(entry, name) for name in _FIELDS]
    return [_cell(_stamp(v) if isinstance(v, datetime) else v) for v in values]


def write_csv(rows: Iterable[HistoryEntry], file: TextIO) -> int:
    """Write history rows as CSV (header first), one at a time; returns how many were written."""
    writer = csv.writer(file)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in rows:
        writer.writerow(csv_cells(entry))
        count += 1
    return count
