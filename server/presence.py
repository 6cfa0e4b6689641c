"""Who is online: one row per open event stream, refreshed by its heartbeat, gone when it closes."""

from __future__ import annotations

import secrets
from datetime import timedelta

import psycopg

from server import event_log, operators
from server.operators import Operator

STALE_AFTER = timedelta(seconds=30)  # a stream silent this long (its process died) is gone


def _online(connection: psycopg.Connection, operator_id: int, excluding: str = "") -> bool:
    row = connection.execute(
        "SELECT count(*) FROM presence WHERE operator_id = %s AND session <> %s "
        "AND last_seen > now() - %s",
        (operator_id, excluding, STALE_AFTER),
    ).fetchone()
    return bool(row and row[0])


def open_session(connection: psycopg.Connection, account: str, operator: Operator) -> str:
    """Note an open stream; the operator comes online if this is their first. Returns its id."""
    session = secrets.token_hex(12)
    operators.seen(connection, operator.id)
    was_online = _online(connection, operator.id)
    connection.execute(
        "INSERT INTO presence (session, account, operator_id) VALUES (%s, %s, %s)",
        (session, account, operator.id),
    )
    if not was_online:
        event_log.append(connection, account, "operator.online", {"operator": operator.name})
    return session


def heartbeat(connection: psycopg.Connection, session: str) -> None:
    """The stream is still open."""
    connection.execute("UPDATE presence SET last_seen = now() WHERE session = %s", (session,))


def close_session(
    connection: psycopg.Connection, account: str, operator: Operator, session: str
) -> None:
    """The stream closed; the operator goes offline if it was their last. They were connected
    until now: a claim they hold counts its timeout from here (server/waiting_line.py)."""
    connection.execute("DELETE FROM presence WHERE session = %s", (session,))
    operators.seen(connection, operator.id)
    if not _online(connection, operator.id):
        event_log.append(connection, account, "operator.offline", {"operator": operator.name})


def sweep(connection: psycopg.Connection, account: str) -> list[str]:
    """Drop the sessions of streams whose process died; the operators who went offline."""
    rows = connection.execute(
        "DELETE FROM presence p USING operators o WHERE p.account = %s AND o.id = p.operator_id "
        "AND p.last_seen < now() - %s RETURNING o.id, o.name",
        (account, STALE_AFTER),
    ).fetchall()
    offline = sorted({name for operator_id, name in rows if not _online(connection, operator_id)})
    for name in offline:
        event_log.append(connection, account, "operator.offline", {"operator": name})
    return offline


def online(connection: psycopg.Connection, account: str) -> list[str]:
    """The names of the operators with an open stream."""
    rows = connection.execute(
        "SELECT DISTINCT o.name FROM presence p JOIN operators o ON o.id = p.operator_id "
        "WHERE p.account = %s AND p.last_seen > now() - %s AND o.revoked_at IS NULL ORDER BY 1",
        (account, STALE_AFTER),
    ).fetchall()
    return [row[0] for row in rows]
