"""Operators of a team: each has a random bearer token, of which only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from server import action_log, event_log
from server.event_log import CHANNEL, REVOKED

TOKEN_PREFIX = "sbt_"  # makes a leaked token easy to recognise (and to scan for)
MAX_NAME_LENGTH = 64
# A request moves an operator's last_seen at most this often: one write per operator per
# interval, not one per request. So last_seen may lag the last request by up to this much.
SEEN_EVERY = timedelta(seconds=5)


class OperatorError(ValueError):
    """An operator name that cannot be used, or one that does not exist."""


@dataclass(frozen=True)
class Operator:
    """One operator of an account (revoked_at is None while the token works)."""

    id: int
    account: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256 (tokens are 256 random bits, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """The name, stripped, or OperatorError when it is empty, too long or has control chars."""
    name = name.strip()
    if not name:
        raise OperatorError("An operator needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise OperatorError(f"An operator name has at most {MAX_NAME_LENGTH} characters.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise OperatorError("An operator name cannot hold control characters.")
    return name


_COLUMNS = "id, account, name, created_at, revoked_at"


def add(connection: psycopg.Connection, account: str, name: str) -> tuple[Operator, str]:
    """Create an operator; returns it with its token (shown once, never stored)."""
    name = check_name(name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with connection.transaction():
            row = connection.execute(
                f"INSERT INTO operators (account, name, token_hash) VALUES (%s, %s, %s) "
                f"RETURNING {_COLUMNS}",
                (account, name, token_hash(token)),
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise OperatorError(
            f"An operator named {name!r} already exists; revoke it first to issue a new token."
        ) from None
    assert row is not None
    operator = Operator(*row)
    action_log.record(connection, account, operator.id, "operator.add", {"name": name})
    return operator, token


def listed(connection: psycopg.Connection, account: str, everyone: bool = False) -> list[Operator]:
    """The account's operators by name; revoked ones too when everyone is set."""
    where = "" if everyone else " AND revoked_at IS NULL"
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM operators WHERE account = %s{where} ORDER BY name, id",
        (account,),
    ).fetchall()
    return [Operator(*row) for row in rows]


def revoke(connection: psycopg.Connection, account: str, name: str) -> Operator:
    """Revoke the named operator's token; OperatorError when there is no such active operator."""
    row = connection.execute(
        f"UPDATE operators SET revoked_at = now() "
        f"WHERE account = %s AND name = %s AND revoked_at IS NULL RETURNING {_COLUMNS}",
        (account, check_name(name)),
    ).fetchone()
    if row is None:
        raise OperatorError(f"There is no active operator named {name!r}.")
    operator = Operator(*row)
    action_log.record(connection, account, operator.id, "operator.revoke", {"name": name})
    # Every server process closes the operator's open streams when it hears this: at once
    # while it listens, from the log while a burst of writes has it reading the log instead.
    connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"revoked {operator.id}"))
    event_log.append(connection, account, REVOKED, {"operator": operator.name, "id": operator.id})
    return operator


def authenticate(connection: psycopg.Connection, account: str, token: str) -> Operator | None:
    """The active operator this token belongs to, or None; a request is a sign of life, so
    their last_seen moves to now (written at most once every SEEN_EVERY, in the same round trip).
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = connection.execute(
        f"WITH found AS (SELECT {_COLUMNS}, last_seen FROM operators "
        "WHERE token_hash = %s AND account = %s AND revoked_at IS NULL), "
        "seen AS (UPDATE operators o SET last_seen = now() FROM found WHERE o.id = found.id "
        "AND (found.last_seen IS NULL OR found.last_seen < now() - %s)) "
        f"SELECT {_COLUMNS} FROM found",
        (token_hash(token), account, SEEN_EVERY),
    ).fetchone()
    return Operator(*row) if row else None


def seen(connection: psycopg.Connection, operator_id: int) -> None:
    """The operator was connected just now (their event stream opened or closed)."""
    connection.execute("UPDATE operators SET last_seen = now() WHERE id = %s", (operator_id,))


def is_active(connection: psycopg.Connection, operator_id: int) -> bool:
    """Whether the operator's token still works."""
    row = connection.execute(
        "SELECT revoked_at IS NULL FROM operators WHERE id = %s", (operator_id,)
    ).fetchone()
    return bool(row and row[0])
