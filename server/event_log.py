"""The append-only event log consoles stream from: ids in commit order, NOTIFY on every write.

Ids come from one sequence, but a sequence hands out numbers at insert time, not commit time:
two writers could commit 6 before 5, and a reader that saw 6 would never look back for 5. So
each append first takes a transaction-scoped advisory lock for its account and holds it to the
commit: within an account, ids become visible in order, and "everything after id N" is exact.
An append is therefore the last statement of its transaction (a batch of status callbacks,
which appends once per callback, is the exception: server/status_writes.py says what follows).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

CHANNEL = "switchboard_events"
APPEND_LOCK = 0x5357_4556  # advisory lock class for appends (in sql_functions.py, in decimal)
DEFAULT_WINDOW = timedelta(hours=24)  # how long events are kept for consoles to resume
READ_BATCH = 500
REVOKED = "operator.revoked"  # an operator's token was revoked: data {"operator", "id"}


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log: id, kind (e.g. "call.status"), its data, and when it was written.

    The data stays as the JSON text the database gave: a process reads each event once and
    sends the same text to every stream, so nothing is decoded and encoded again per stream.
    """

    id: int
    kind: str
    data_text: str
    at: datetime

    @property
    def data(self) -> Mapping[str, Any]:
        """The event's data, decoded."""
        return json.loads(self.data_text)

    def as_json(self) -> dict[str, Any]:
        """The event as the stream and the API send it."""
        return {"id": self.id, "kind": self.kind, "at": self.at.isoformat(), "data": self.data}

    @functools.cached_property
    def as_text(self) -> str:
        """as_json() as JSON text, made once (the data text is spliced in as it came)."""
        head = json.dumps({"id": self.id, "kind": self.kind, "at": self.at.isoformat()})
        return f'{head[:-1]}, "data": {self.data_text}}}'


def append(connection: psycopg.Connection, account: str, kind: str, data: Mapping[str, Any]) -> int:
    """Append an event in the caller's transaction (as its last statement); returns its id."""
    row = connection.execute(
        "SELECT switchboard_append_event(%s, %s, %s)", (account, kind, Jsonb(dict(data)))
    ).fetchone()  # lock, insert, notify: server/sql_functions.py
    assert row is not None
    return int(row[0])


def after(
    connection: psycopg.Connection, account: str, last_id: int, limit: int = READ_BATCH
) -> list[LoggedEvent]:
    """The account's events after last_id, oldest first (at most limit)."""
    rows = connection.execute(
        "SELECT id, kind, data::text, at FROM event_log WHERE account = %s AND id > %s "
        "ORDER BY id LIMIT %s",
        (account, last_id, limit),
    ).fetchall()
    return [LoggedEvent(*row) for row in rows]


def catch_up(
    connection: psycopg.Connection, account: str, last_id: int, limit: int = READ_BATCH
) -> list[LoggedEvent] | None:
    """after(), unless the log was pruned past last_id: then None, and the reader must reload.

    The events and the pruned mark are read in one statement, so from one snapshot: a prune
    removes its events and moves the mark in one transaction, and a reader sees both or neither.
    Read apart, a prune committing between them could take events from under the reader
    unnoticed.
    """
    rows = connection.execute(
        "SELECT p.up_to, e.id, e.kind, e.data, e.at FROM (SELECT coalesce((SELECT up_to "
        "FROM event_log_pruned WHERE account = %s), 0) AS up_to) p LEFT JOIN LATERAL ("
        "SELECT id, kind, data::text AS data, at FROM event_log WHERE account = %s AND id > %s "
        "ORDER BY id LIMIT %s) e ON true",
        (account, account, last_id, limit),
    ).fetchall()
    if rows and rows[0][0] > last_id:
        return None
    return [LoggedEvent(*row[1:]) for row in rows if row[1] is not None]


def head(connection: psycopg.Connection, account: str) -> int:
    """The id of the account's newest event (0 when there is none, or the pruned mark)."""
    row = connection.execute(
        "SELECT greatest((SELECT max(id) FROM event_log WHERE account = %s), "
        "(SELECT up_to FROM event_log_pruned WHERE account = %s), 0)",
        (account, account),
    ).fetchone()
    return int(row[0]) if row else 0


def pruned_up_to(connection: psycopg.Connection, account: str) -> int:
    """The highest id removed from the log: a console behind it must reload."""
    row = connection.execute(
        "SELECT up_to FROM event_log_pruned WHERE account = %s", (account,)
    ).fetchone()
    return int(row[0]) if row else 0


def prune(connection: psycopg.Connection, account: str, window: timedelta = DEFAULT_WINDOW) -> int:
    """Remove the account's events older than the window; returns how many went."""
    row = connection.execute(
        "WITH gone AS (DELETE FROM event_log WHERE account = %s AND at < now() - %s "
        "RETURNING id) SELECT count(*), max(id) FROM gone",
        (account, window),
    ).fetchone()
    count, highest = (int(row[0]), row[1]) if row else (0, None)
    if highest is not None:
        connection.execute(
            "INSERT INTO event_log_pruned (account, up_to) VALUES (%s, %s) ON CONFLICT (account) "
            "DO UPDATE SET up_to = greatest(event_log_pruned.up_to, excluded.up_to)",
            (account, highest),
        )
    return count
