"""What each operator is doing, derived from the calls they placed: "idle" or "on a call with …".

An operator is on a call while a call they dialed (POST /calls), or a waiting caller they put in
a room, has no final status yet. When that changes (a call placed, answered or ended, a caller
placed) an "operator.activity" event tells every console; operator_activity remembers what was
last told, so an unchanged activity is not told twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import psycopg

from console.core.number_text import international
from server import event_log

IDLE = "idle"
# A call whose end was never heard (a lost callback) stops counting after Twilio's longest call.
LONGEST_CALL = timedelta(hours=24)

# The operator's newest open call, for each name of %(names)s (the LATERAL join of /operators).
_OPEN_CALL = (
    'SELECT c.sid, c.direction, c.from_, c."to" FROM calls c '
    "WHERE c.account = %s AND c.operator = {name} AND c.final_status = '' "
    "AND c.created_at > now() - %s ORDER BY c.created_at DESC LIMIT 1"
)


@dataclass(frozen=True)
class Activity:
    """One operator's activity: what the Team panel shows, and the call it is about."""

    operator: str
    activity: str = IDLE
    call_sid: str = ""

    def as_json(self) -> dict[str, str]:
        """As /team/v1/operators lists it."""
        return {"name": self.operator, "activity": self.activity, "call_sid": self.call_sid}


def _described(operator: str, row: tuple | None) -> Activity:
    """The activity an open call (sid, direction, from, to) makes, or idle without one."""
    if row is None or row[0] is None:
        return Activity(operator)
    sid, direction, from_, to = row
    party = from_ if direction == "inbound" else to  # a caller put in a room, or a callee
    return Activity(operator, f"on a call with {international(party) or 'unknown'}", sid)


def current(connection: psycopg.Connection, account: str, operator: str) -> Activity:
    """What operator is doing now, from the calls table."""
    row = connection.execute(
        _OPEN_CALL.format(name="%s"), (account, operator, LONGEST_CALL)
    ).fetchone()
    return _described(operator, row)


def of_online(connection: psycopg.Connection, account: str, names: list[str]) -> list[Activity]:
    """The activity of each named operator (in the order given), in one query."""
    if not names:
        return []
    rows = connection.execute(
        'SELECT n.name, c.sid, c.direction, c.from_, c."to" FROM unnest(%s::text[]) '
        "WITH ORDINALITY AS n(name, place) LEFT JOIN LATERAL ("
        + _OPEN_CALL.format(name="n.name")
        + ") c ON true ORDER BY n.place",
        (names, account, LONGEST_CALL),
    ).fetchall()
    return [_described(row[0], row[1:]) for row in rows]


def note(connection: psycopg.Connection, account: str, operator: str) -> Activity | None:
    """Tell the consoles operator's activity if it changed; the new activity, or None.

    Runs in a transaction of its own: the operator's operator_activity row is locked first,
    so two processes noting the same operator at once tell the changes in order, and the last
    one reads the calls as they are after both.
    """
    if not operator:
        return None
    with connection.transaction():
        connection.execute(
            "INSERT INTO operator_activity (account, operator) VALUES (%s, %s) "
            "ON CONFLICT DO NOTHING",
            (account, operator),
        )
        told = connection.execute(
            "SELECT activity, call_sid FROM operator_activity "
            "WHERE account = %s AND operator = %s FOR UPDATE",
            (account, operator),
        ).fetchone()
        now = current(connection, account, operator)
        if told is not None and (told[0], told[1]) == (now.activity, now.call_sid):
            return None
        connection.execute(
            "UPDATE operator_activity SET activity = %s, call_sid = %s, at = now() "
            "WHERE account = %s AND operator = %s",
            (now.activity, now.call_sid, account, operator),
        )
        data = {"operator": operator, "activity": now.activity, "call_sid": now.call_sid}
        event_log.append(connection, account, "operator.activity", data)
    return now
