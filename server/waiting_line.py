"""The team's waiting line: callers on hold, claimed by one operator with one conditional UPDATE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from server import action_log, event_log
from server.operators import SEEN_EVERY, Operator

CLAIM_TIMEOUT = timedelta(seconds=30)  # a claim outlives its operator's last sign of life


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


def take(
    connection: psycopg.Connection, account: str, call_sid: str, operator: Operator, room: str
) -> Waiter:
    """Take the caller off the line for operator to put in room, before Twilio is asked to.

    One UPDATE that only matches a waiting caller operator holds: a claim the sweep freed
    meanwhile, or another operator took, loses here, and once taken nobody can claim the
    caller, so two operators never both place them. Otherwise ClaimedByOther, naming whoever
    has or took them, or NotWaiting.
    """
    row = connection.execute(
        "UPDATE waiting SET state = 'placed', room = %s, ended_at = now() "
        "WHERE account = %s AND call_sid = %s AND state = 'waiting' AND claimed_by = %s "
        "RETURNING call_sid",
        (room, account, call_sid, operator.id),
    ).fetchone()
    if row is None:
        current = one(connection, account, call_sid)
        taker = current.claimed_by if current is not None and current.state == "placed" else ""
        if taker and taker != operator.name:  # another operator is putting them in a room
            raise ClaimedByOther(f"{taker} is handling this caller.", taker)
        check_holder(connection, account, call_sid, operator)  # raises the reason
        raise WaitingError("Claim this caller before putting them in a room.")
    waiter = one(connection, account, call_sid)
    assert waiter is not None
    return waiter


def not_taken(
    connection: psycopg.Connection, account: str, call_sid: str, operator: Operator
) -> None:
    """Twilio did not put the taken caller in the room: back on the line, still claimed by
    operator, unless their call ended meanwhile."""
    connection.execute(
        "WITH ended AS (SELECT EXISTS (SELECT FROM calls WHERE account = %(account)s "
        "AND sid = %(sid)s AND final_status <> '') AS yes) "
        "UPDATE waiting SET room = '', state = CASE WHEN ended.yes THEN 'gone' ELSE 'waiting' END, "
        "ended_at = CASE WHEN ended.yes THEN now() END FROM ended "
        "WHERE account = %(account)s AND call_sid = %(sid)s AND state = 'placed' "
        "AND claimed_by = %(operator)s",
        {"account": account, "sid": call_sid, "operator": operator.id},
    )


def placed(
    connection: psycopg.Connection,
    account: str,
    call_sid: str,
    operator: Operator,
    room: str,
    identity: str,
) -> None:
    """The caller operator took was redirected into room: history and every console hear it."""
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
    """Release claims older than timeout whose operator has been away longer than it: no open
    event stream, and no API request or stream closing within it (last_seen may lag a request
    by up to SEEN_EVERY, so that much more is allowed). A revoked operator's claims go at once."""
    rows = connection.execute(
        "UPDATE waiting w SET claimed_by = NULL, claimed_at = NULL FROM operators o "
        "WHERE w.account = %s AND w.state = 'waiting' AND o.id = w.claimed_by "
        "AND w.claimed_at < now() - %s AND (o.revoked_at IS NOT NULL OR ("
        "  coalesce(o.last_seen, '-infinity') < now() - %s AND NOT EXISTS ("
        "  SELECT 1 FROM presence p WHERE p.operator_id = o.id AND p.last_seen > now() - %s))) "
        "RETURNING w.call_sid, o.name",
        (account, timeout, timeout + SEEN_EVERY, timeout),
    ).fetchall()
    for call_sid, name in rows:
        data = {"call_sid": call_sid, "operator": name, "reason": "timeout"}
        event_log.append(connection, account, "waiting.released", data)
    return [call_sid for call_sid, _ in rows]
