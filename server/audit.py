"""An operator's action as one record: its audit row, its event, and the call it placed or moved.

The team API acts on Twilio first. What it did is then written in one transaction, or, when the
database is away, kept in the recorder's spool (type "action") and written when it returns: an
action that happened is never reported as failed, and its audit row is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from console.core.calls.records import Call
from console.core.gateways.team_records import record_from
from server import action_log, activity, call_store, event_log
from server.operators import Operator

TYPE = "action"  # the record's type in the recorder and its spool


def record_of(
    who: Operator,
    action: str,
    detail: Mapping[str, Any],
    event: str = "action",
    data: Mapping[str, Any] | None = None,
    call: Mapping[str, Any] | None = None,
    moved: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-able record of one action: the event's data defaults to the action's detail
    with the operator's name; call is a placed call (as JSON), moved a (call SID, new room)."""
    if data is None:
        data = {"action": action, "operator": who.name, **detail}
    record: dict[str, Any] = {
        "type": TYPE,
        "operator_id": who.id,
        "operator": who.name,
        "action": action,
        "detail": dict(detail),
        "event": event,
        "data": dict(data),
    }
    if call is not None:
        record["call"] = dict(call)
    if moved is not None:
        record["moved"] = list(moved)
    return record


def write(connection: psycopg.Connection, account: str, record: Mapping[str, Any]) -> int:
    """Write the record (in a transaction, or a savepoint of the caller's); the event's id."""
    operator = record.get("operator", "")
    with connection.transaction():
        if record.get("call"):
            call = record_from(Call, record["call"])
            call_store.record_call(connection, account, call, operator=operator)
        if record.get("moved"):
            sid, room = record["moved"]
            connection.execute(
                "UPDATE calls SET room = %s WHERE account = %s AND sid = %s", (room, account, sid)
            )
        action_log.record(
            connection, account, record.get("operator_id"), record["action"], record["detail"]
        )
        event_id = event_log.append(connection, account, record["event"], record["data"])
    return event_id


def note_activity(connection: psycopg.Connection, account: str, record: Mapping[str, Any]) -> None:
    """After a placed call is written: tell the consoles what its operator is doing now."""
    if record.get("call"):
        activity.note(connection, account, record.get("operator", ""))
