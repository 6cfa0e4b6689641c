"""The team's call history in PostgreSQL: the same operations as the desktop's SQLite history.

PostgresHistory is a HistoryStore (console.core.calls.history_store), as CallHistory is; the
module-level functions take a connection, so the team server can record a call and append its
event in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TextIO

import psycopg
from psycopg.rows import dict_row

from console.core.calls.history_store import (
    DEFAULT_LIMIT,
    EXPORT_BATCH,
    Progress,
    Statuses,
    StatusRecord,
    status_call,
    write_csv,
)
from console.core.calls.records import Call
from console.core.calls.team_history import TeamHistoryEntry
from console.core.calls.text_fold import fold, fold_pairs, needs_folding
from server.database import Database
from webhook.events import CallStatusEvent

# The searchable text of a call: must be written exactly as the trigram index (migration 3).
SEARCH_TEXT = (
    '(sid || chr(31) || from_ || chr(31) || "to" || chr(31) || room || chr(31) || identity'
    " || chr(31) || display_name || chr(31) || error_message || chr(31) || operator)"
)
_ENTRY_COLUMNS = (
    'sid, direction, from_, "to", room, identity, display_name, created_at, status, '
    "final_status, duration, error_code, error_message"
)


def _moment(value: datetime | None) -> datetime:
    value = value or datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_call(
    connection: psycopg.Connection,
    account: str,
    call: Call,
    display_name: str = "",
    created_at: datetime | None = None,
    operator: str = "",
) -> bool:
    """Record a call and its current status; True when that status is new for the call.

    The rules (non-empty columns win; a status never moves a call backwards) run in the
    database, in switchboard_record_call (server/sql_functions.py), in one round trip.
    """
    row = connection.execute(
        f"SELECT switchboard_record_call({', '.join(['%s'] * 15)})",
        (
            account,
            call.sid,
            _moment(created_at or call.placed_at),
            call.direction,
            call.from_,
            call.to,
            call.room,
            call.identity,
            display_name,
            operator,
            call.status,
            call.sequence if call.sequence >= 0 else None,
            call.duration,
            call.error_code,
            call.error_message,
        ),
    ).fetchone()
    return bool(row and row[0])


def call_of_event(event: CallStatusEvent, room: str = "", identity: str = "") -> Call:
    """The Call a status callback describes."""
    duration, sequence = event.get("CallDuration"), event.get("SequenceNumber")
    return Call(
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


def event_time(event: CallStatusEvent) -> datetime:
    """When Twilio says the callback happened (its Timestamp), else now."""
    stamp = event.get("Timestamp")
    if not stamp:
        return datetime.now(UTC)
    try:
        return _moment(parsedate_to_datetime(stamp))
    except (TypeError, ValueError):
        return datetime.now(UTC)


def search_rows(connection: psycopg.Connection, account: str, **filters: Any) -> list[dict]:
    """Calls newest first as dicts (the HistoryEntry fields plus operator). Filters, as
    search(): text=, status=, direction=, since=, operator=, and limit= (DEFAULT_LIMIT)."""
    sql, params = _search(account, **filters)
    with connection.cursor(row_factory=dict_row) as cursor:
        # Never a prepared statement: a generic plan cannot see the pattern, so it cannot tell
        # a rare one (ask the trigram index) from a common one (read the newest calls first).
        return cursor.execute(sql, params, prepare=False).fetchall()


def each_row(connection: psycopg.Connection, account: str, **filters: Any) -> Iterator[dict]:
    """search_rows' rows (the same filters; every match unless limit= says otherwise) one at a
    time, read EXPORT_BATCH at a time through a server-side cursor inside the caller's
    transaction: an export's memory stays flat however many calls match."""
    sql, params = _search(account, **{"limit": None, **filters})
    with connection.cursor(name="switchboard_export", row_factory=dict_row) as cursor:
        cursor.itersize = EXPORT_BATCH
        cursor.execute(sql, params)
        yield from cursor


def _search(
    account: str,
    text: str = "",
    status: Statuses = None,
    direction: str | None = None,
    since: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
    operator: str | None = None,
) -> tuple[str, list[object]]:
    """The search's SQL and parameters, newest first.

    ILIKE folds only ASCII in a database made with the C locale, so text with other letters
    is matched on the call's text folded by translate() with text_fold's letters (any
    locale; the trigram index cannot help, so the newest calls are read until a page is found).
    """
    where = ["account = %s"]
    params: list[object] = [account]
    if text.strip():
        needle = text.strip()
        if needs_folding(needle):
            where.append(f"translate({SEARCH_TEXT}, %s, %s) ILIKE %s")
            params += [*fold_pairs(needle)]
            needle = fold(needle)
        else:
            where.append(f"{SEARCH_TEXT} ILIKE %s")
        params.append("%" + re.sub(r"([\\%_])", r"\\\1", needle) + "%")
    if status:
        where.append("status = ANY(%s)")
        params.append([status] if isinstance(status, str) else list(status))
    if direction:
        where.append("(direction = %s OR direction LIKE %s)")
        params += [direction, direction + "-%"]
    if since is not None:
        where.append("created_at >= %s")
        params.append(_moment(since))
    if operator:
        where.append("operator = %s")
        params.append(operator)
    sql = f"SELECT {_ENTRY_COLUMNS}, operator FROM calls WHERE {' AND '.join(where)}"
    sql += " ORDER BY created_at DESC, sid DESC"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(max(0, int(limit)))
    return sql, params


def entry(row: dict[str, Any]) -> TeamHistoryEntry:
    """A history entry from a search row, with the operator who placed or took the call."""
    return TeamHistoryEntry(**row)


def statuses_of(connection: psycopg.Connection, account: str, sid: str) -> list[StatusRecord]:
    """Every status one call went through, oldest first."""
    rows = connection.execute(
        "SELECT status, at, sequence FROM call_statuses WHERE account = %s AND sid = %s "
        "ORDER BY at, coalesce(sequence, -1)",
        (account, sid),
    ).fetchall()
    return [StatusRecord(*row) for row in rows]


class PostgresHistory:
    """The team's history for one account, as a HistoryStore: CallHistory's operations over
    the team database. Its calls carry their operator, and its CSV an operator column."""

    def __init__(self, database: Database, account: str) -> None:
        self.database = database
        self.account = account

    def close(self) -> None:
        """Nothing to close: the pool belongs to whoever opened it."""

    def record_call(
        self, call: Call, display_name: str = "", created_at: datetime | None = None
    ) -> None:
        """Record a call placed or received, and its current status."""
        with self.database.connection() as connection:
            record_call(connection, self.account, call, display_name, created_at)

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
        """Record one status of a call; False when it was already recorded."""
        call = status_call(sid, status, duration, error_code, error_message, sequence)
        with self.database.connection() as connection:
            return record_call(connection, self.account, call, created_at=at)

    def record_event(self, event: CallStatusEvent, room: str = "", identity: str = "") -> bool:
        """Record a status callback, with the call's From, To and Direction."""
        if not event.call_sid or not event.status:
            return False
        call = call_of_event(event, room, identity)
        with self.database.connection() as connection:
            return record_call(connection, self.account, call, created_at=event_time(event))

    def search(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[TeamHistoryEntry]:
        """Calls newest first, filtered as HistoryReader.search says."""
        with self.database.connection() as connection:
            rows = search_rows(
                connection, self.account, text=text, status=status, direction=direction,
                since=since, limit=limit,
            )  # fmt: skip
        return [entry(row) for row in rows]

    def each_entry(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[TeamHistoryEntry]:
        """search()'s calls one at a time (every match unless limit says otherwise), read
        EXPORT_BATCH at a time; a pooled connection is held until the last one is read."""
        filters = {"text": text, "status": status, "direction": direction, "since": since}
        with self.database.connection() as connection:
            for row in each_row(connection, self.account, **filters, limit=limit):
                yield entry(row)

    def statuses_of(self, sid: str) -> list[StatusRecord]:
        """Every status one call went through, oldest first."""
        with self.database.connection() as connection:
            return statuses_of(connection, self.account, sid)

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
        """Write the calls these filters find as the team's CSV (operator column last), a
        batch at a time; returns how many were written."""
        rows = self.each_entry(text, status, direction, since, limit)
        return write_csv(rows, file, operators=True, progress=progress)
