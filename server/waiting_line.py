"""The team's waiting line: callers on hold, claimed by one operator with one conditional UPDATE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from server import action_log, event_log
from server.operators import Operator

CLAIM_TIMEOUT = timedelta(seconds=30)  # a claim outlives its operator's connection this long


class WaitingError(Exception):
    """A claim, placement or release that cannot happen; status is the HTTP answer for it."""

    status = 409

    def __init__(self, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.holder = holder


class NotWaiting(WaitingError):
    """The caller is not (or no longer) waiting."""

    status = 404


class ClaimedByOther(WaitingError):
    """Another operator holds the caller."""


@dataclass(frozen=True)
class Waiter:
    """A caller on hold, and who (if anyone) is handling them."""

    call_sid: str
    from_: str
    to: str
    identity: str
    since: datetime
    state: str
    claimed_by: str = ""
    claimed_at: datetime | None = None
    room: str = ""

    def as_json(self) -> dict[str, Any]:
        """The caller as the team API answers it."""
        return {
            "call_sid": self.call_sid,
            "from": self.from_,
            "to": self.to,
            "identity": self.identity,
            "since": self.since.isoformat(),
            "state": self.state,
            "claimed_by": self.claimed_by,
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "room": self.room,
        }


_SELECT = (
    'SELECT w.call_sid, w.from_, w."to", w.identity, w.since, w.state, '
    "coalesce(o.name, ''), w.claimed_at, w.room FROM waiting w "
    "LEFT JOIN operators o ON o.id = w.claimed_by "
)


def listed(connection: psycopg.Connection, account: str) -> list[Waiter]:
    """The callers waiting now, longest-waiting first."""
    rows = connection.execute(
        _SELECT + "WHERE w.account = %s AND w.state = 'waiting' ORDER BY w.since, w.call_sid",
        (account,),
    ).fetchall()
    return [Waiter(*row) for row in rows]


def one(connection: psycopg.Connection, account: str, call_sid: str) -> Waiter | None:
    """One caller of the line, whatever their state, or None."""
    row = connection.execute(
        _SELECT + "WHERE w.account = %s AND w.call_sid = %s", (account, call_sid)
    ).fetchone()
    return Waiter(*row) if row else None


def claim(
    connection: psycopg.Connection, account: str, call_sid: str, operator: Operator
) -> Waiter:
    """Claim a waiting caller for operator; exactly one of any number of racing operators wins.

    The claim is one UPDATE that only matches an unclaimed row, so the database decides the
    race. Claiming a caller one already holds is fine (and renews the claim).
    """
    row = connection.execute(
        "UPDATE waiting SET claimed_by = %s, claimed_at = now() "
        "WHERE account = %s AND call_sid = %s AND state = 'waiting' "
        "AND (claimed_by IS NULL OR claimed_by = %s) RETURNING call_sid",
        (operator.id, account, call_sid, operator.id),
    ).fetchone()
    if row is None:
        current = one(connection, account, call_sid)
        if current is None or current.state != "waiting":
            raise NotWaiting(f"Caller {call_sid} is not waiting.")
        raise ClaimedByOther(f"{current.claimed_by} is handling this caller.", current.claimed_by)
    action_log.record(connection, account, operator.id, "claim", {"call_sid": call_sid})
    event_log.append(
        connection, account, "waiting.claimed", {"call_sid": call_sid, "operator": operator.name}
    )
    waiter = one(connection, account, call_sid)
    assert waiter is not None
    return waiter


def check_holder(
    connection: psycopg.Connection, account: str, call_sid: str, operator: Operator
) -> Waiter:
    """The caller, when operator holds the claim; NotWaiting or ClaimedByOther otherwise."""
    current = one(connection, account, call_sid)
    if current is None or current.state != "waiting":
        raise NotWaiting(f"Caller {call_sid} is not waiting.")
    if current.claimed_by != operator.name:
        if current.claimed_by:
            raise ClaimedByOther(
                f"{current.claimed_by} is handling this caller.", current.claimed_by
            )
        raise WaitingError("Claim this caller before putting them in a room.")
    return current


def placed(
    connection: psycopg.Connection,
    account: str,
    call_sid: str,
    operator: Operator,
    room: str,
    identity: str,
) -> None:
    """The claimed caller was redirected into room: they leave the line."""
    connection.execute(
        "UPDATE waiting SET state = 'placed', room = %s, ended_at = now() "
        "WHERE account = %s AND call_sid = %s AND claimed_by = %s",
        (room, account, call_sid, operator.id),
    )
    connection.execute(
        "UPDATE calls SET room = %s, identity = %s, operator = %s WHERE account = %s AND sid = %s",
        (room, identity, operator.name, account, call_sid),
    )
    detail = {"call_sid": call_sid, "room": room, "identity": identity}
    action_log.record(connection, account, operator.id, "place", detail)
    event_log.append(connection, account, "waiting.placed", {**detail, "operator": operator.name})


def release(
    connection: psycopg.Connection, account: str, call_sid: str, operator: Operator
) -> None:
    """Give a claimed caller back to the team; WaitingError when operator does not hold them."""
    row = connection.execute(
        "UPDATE waiting SET claimed_by = NULL, claimed_at = NULL "
        "WHERE account = %s AND call_sid = %s AND state = 'waiting' AND claimed_by = %s "
        "RETURNING call_sid",
        (account, call_sid, operator.id),
    ).fetchone()
    if row is None:
        check_holder(connection, account, call_sid, operator)  # raises the reason
        return
    action_log.record(connection, account, operator.id, "release", {"call_sid": call_sid})
    event_log.append(
        connection,
        account,
        "waiting.released",
        {"call_sid": call_sid, "operator": operator.name, "reason": "released"},
    )


def release_stale(
    connection: psycopg.Connection, account: str, timeout: timedelta = CLAIM_TIMEOUT
) -> list[str]:
    """Release claims older than timeout whose operator has not been connected within it."""
    rows = connection.execute(
        "UPDATE waiting w SET claimed_by = NULL, claimed_at = NULL FROM operators o "
        "WHERE w.account = %s AND w.state = 'waiting' AND o.id = w.claimed_by "
        "AND w.claimed_at < now() - %s AND (o.revoked_at IS NOT NULL OR NOT EXISTS ("
        "  SELECT 1 FROM presence p WHERE p.operator_id = o.id AND p.last_seen > now() - %s)) "
        "RETURNING w.call_sid, o.name",
        (account, timeout, timeout),
    ).fetchall()
    for call_sid, name in rows:
        data = {"call_sid": call_sid, "operator": name, "reason": "timeout"}
        event_log.append(connection, account, "waiting.released", data)
    return [call_sid for call_sid, _ in rows]
