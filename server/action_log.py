"""The audit trail: every action an operator takes (dial, claim, move, hang up, …) and who."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record(
    connection: psycopg.Connection,
    account: str,
    operator_id: int | None,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one action to the account's audit trail (in the caller's transaction)."""
    connection.execute(
        "INSERT INTO actions (account, operator_id, action, detail) VALUES (%s, %s, %s, %s)",
        (account, operator_id, action, Jsonb(dict(detail or {}))),
    )


def recent(
    connection: psycopg.Connection, account: str, limit: int = 100
) -> list[tuple[datetime, str, str, dict[str, Any]]]:
    """The latest actions, newest first: (at, operator name, action, detail)."""
    return connection.execute(
        "SELECT a.at, coalesce(o.name, ''), a.action, a.detail FROM actions a "
        "LEFT JOIN operators o ON o.id = a.operator_id "
        "WHERE a.account = %s ORDER BY a.id DESC LIMIT %s",
        (account, limit),
    ).fetchall()
