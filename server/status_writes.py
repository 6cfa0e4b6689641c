"""Status callbacks written to the database: one alone, or a batch in one statement.

Each goes through switchboard_status_callback (server/sql_functions.py): the status recorded,
an ended caller taken off the waiting line, and an event for the consoles when anything
changed. A batch calls it once per callback, in arrival order, in one statement and so one
transaction: one round trip and one commit for every callback that queued meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

from server import activity, call_store
from server.database import CONNECTION_LOST
from webhook.events import CallStatusEvent

Record = dict[str, Any]


class _Status(NamedTuple):
    """The function's arguments after the account."""

    sid: str
    at: datetime
    direction: str
    from_: str
    to: str
    room: str
    identity: str
    status: str
    sequence: int | None
    duration: int
    error_code: str
    error_message: str

    def as_json(self) -> dict[str, object]:
        return {**self._asdict(), "at": self.at.isoformat()}


_KINDS = {"at": "timestamptz", "sequence": "int", "duration": "int"}  # the rest are text
# Typed placeholders: a number too big for an int is then "out of range" (the callback's data),
# not a call of a function that does not exist (as a bigint argument would make it).
_ONE = "SELECT event_id, call_operator FROM switchboard_status_callback(%s{})".format(
    "".join(f", %s::{_KINDS.get(name, 'text')}" for name in _Status._fields)
)
# The batch travels as one JSON array of objects (one parameter: cheaper to send than an
# array per column), read back in order by its ordinality.
# Each callback appends an event, and an append holds the account's event lock to the commit
# (server/event_log.py), so a batch writes its later calls' rows while holding it. A
# transaction holding one of those rows and waiting to append (/move, a claim, a placement)
# then deadlocks with the batch; PostgreSQL finds it within deadlock_timeout (1 s) and aborts
# the batch, whose callbacks are then written one by one, each locking its row before its
# append. (Locking the batch's rows first, in one statement, was tried: while the planner
# believes the table small, as for a new team until autovacuum analyzes it, a plan took
# another index on the account and read every call for each SID: four times the database's
# work per callback.)
_MANY = (
    "SELECT r.event_id, r.call_operator FROM ROWS FROM (json_to_recordset(%s::json) "
    "AS ({typed})) WITH ORDINALITY AS u({names}, n) "
    "CROSS JOIN LATERAL switchboard_status_callback(%s, {values}) AS r ORDER BY u.n"
).format(
    typed=", ".join(f'"{name}" {_KINDS.get(name, "text")}' for name in _Status._fields),
    names=", ".join(f'"{name}"' for name in _Status._fields),
    values=", ".join(f'u."{name}"' for name in _Status._fields),
)


def _row(record: Record) -> _Status | None:
    """The callback's call and status, or None for a callback without them."""
    event = CallStatusEvent(fields=record["fields"])
    if not event.call_sid or not event.status:
        return None
    call = call_store.call_of_event(event, record.get("room", ""), record.get("identity", ""))
    return _Status(
        call.sid,
        call_store.event_time(event),
        call.direction,
        call.from_,
        call.to,
        call.room,
        call.identity,
        call.status,
        call.sequence if call.sequence >= 0 else None,
        call.duration,
        call.error_code,
        call.error_message,
    )


def write_one(connection: psycopg.Connection, account: str, record: Record) -> int | None:
    """Write one status callback; the id of the event it logged, if any."""
    return _write_row(connection, account, _row(record))


def write_many(
    connection: psycopg.Connection, account: str, records: Sequence[Record]
) -> list[int | Exception | None]:
    """Write status callbacks in order; per record, its event id (or None), or the error that
    record alone raised. A batch the database refuses for its data is written one by one, so
    one bad callback fails alone; a lost connection fails them all (raised)."""
    rows = [_row(record) for record in records]
    given = [row for row in rows if row is not None]
    if len(given) > 1:
        batch = json.dumps([row.as_json() for row in given])
        try:
            answers = connection.execute(_MANY, (batch, account)).fetchall()
        except psycopg.errors.DeadlockDetected:
            answers = None  # with a transaction holding one of its rows: each alone, below
        except CONNECTION_LOST:
            raise
        except psycopg.Error:
            answers = None  # some callback's data: each is tried alone below
        if answers is not None:
            for operator in dict.fromkeys(operator for _, operator in answers if operator):
                activity.note(connection, account, operator)
            ids = iter(event_id for event_id, _ in answers)
            return [None if row is None else next(ids) for row in rows]
    return [_alone(connection, account, row) for row in rows]


def _write_row(connection: psycopg.Connection, account: str, row: _Status | None) -> int | None:
    """Only a new status of a call an operator placed costs a second round trip: their
    activity may have changed."""
    if row is None:
        return None
    event_id, operator = connection.execute(_ONE, (account, *row)).fetchone() or (None, "")
    activity.note(connection, account, operator)
    return event_id


def _alone(
    connection: psycopg.Connection, account: str, row: _Status | None
) -> int | Exception | None:
    try:
        return _write_row(connection, account, row)
    except CONNECTION_LOST:
        raise
    except psycopg.Error as error:
        return error
