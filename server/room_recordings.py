"""The team's recordings, kept as the team starts and stops them: which rules each runs under.

A console records a room with Recording Rules (console/core/calls/room_controls.py): a room
records while its rules take some track in. Each post of rules through the server is kept
here: rules that record open the room's recording (or change the rules of the open one);
rules that record nothing stop it, as does the room ending. Consoles read a room's rules from
here, the rules this team last gave Twilio, without a round trip to Twilio.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from console.core.calls.room_controls import records_anything

RECORDINGS_LOCK = 0x5352_4543  # advisory lock class: one change of a room's recording at a time
RECORD, STOP = "record", "stop_recording"  # the actions a post of rules is logged as


def _room_name(connection: psycopg.Connection, account: str, room_sid: str) -> str:
    row = connection.execute(
        "SELECT room_name FROM room_events WHERE account = %s AND room_sid = %s "
        "AND room_name <> '' ORDER BY id DESC LIMIT 1",
        (account, room_sid),
    ).fetchone()
    return row[0] if row else ""


def change(
    connection: psycopg.Connection,
    account: str,
    room_sid: str,
    rules: Sequence[dict[str, Any]],
    operator_id: int | None,
) -> str:
    """Keep the rules just posted for a room; RECORD when they record anything, else STOP."""
    connection.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RECORDINGS_LOCK, room_sid)
    )
    if not records_anything(rules):
        connection.execute(
            "UPDATE recordings SET stopped_at = now(), stopped_by = %s, stop_rules = %s "
            "WHERE account = %s AND room_sid = %s AND stopped_at IS NULL",
            (operator_id, Jsonb(list(rules)), account, room_sid),
        )
        return STOP
    updated = connection.execute(
        "UPDATE recordings SET rules = %s WHERE account = %s AND room_sid = %s "
        "AND stopped_at IS NULL",
        (Jsonb(list(rules)), account, room_sid),
    ).rowcount
    if not updated:
        connection.execute(
            "INSERT INTO recordings (account, room_sid, room, started_by, rules) "
            "VALUES (%s, %s, %s, %s, %s)",
            (
                account,
                room_sid,
                _room_name(connection, account, room_sid),
                operator_id,
                Jsonb(list(rules)),
            ),
        )
    return RECORD


def rules_of(
    connection: psycopg.Connection, account: str, room_sid: str
) -> list[dict[str, Any]] | None:
    """The room's Recording Rules as the team last set them; None when it never set any (or
    the room ended since), and only Twilio knows."""
    row = connection.execute(
        "SELECT CASE WHEN stopped_at IS NULL THEN rules ELSE stop_rules END FROM recordings "
        "WHERE account = %s AND room_sid = %s ORDER BY started_at DESC LIMIT 1",
        (account, room_sid),
    ).fetchone()
    return None if row is None or row[0] is None else list(row[0])


def recording(connection: psycopg.Connection, account: str) -> list[tuple[str, str, str]]:
    """The rooms recording now: (room SID, room name, who started it), oldest first."""
    return connection.execute(
        "SELECT r.room_sid, r.room, coalesce(o.name, '') FROM recordings r "
        "LEFT JOIN operators o ON o.id = r.started_by "
        "WHERE r.account = %s AND r.stopped_at IS NULL ORDER BY r.started_at",
        (account,),
    ).fetchall()


def room_ended(connection: psycopg.Connection, account: str, room_sid: str) -> None:
    """The room ended: its recording stopped with it (Twilio's rules go with the room)."""
    connection.execute(
        "UPDATE recordings SET stopped_at = now() "
        "WHERE account = %s AND room_sid = %s AND stopped_at IS NULL",
        (account, room_sid),
    )
