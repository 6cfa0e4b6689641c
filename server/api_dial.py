"""Team API: dialing into a room, refusing an identity someone in the room has or is dialed as.

Two operators dialing the same room and identity at the same instant take turns: the check of
the room and the team's open calls, the call, and its record run under a transaction-scoped
advisory lock on (account, room, identity), so the second sees the first's call and is refused.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import psycopg
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from console.core.calls.dial_input import InvalidInput, validate_request
from server import audit
from server.activity import LONGEST_CALL
from server.api_rooms import invalid
from server.database import DatabaseError
from server.team_context import (
    ApiError,
    as_json,
    body,
    keep,
    operator,
    team,
    text_field,
    transaction,
)
from server.twilio_actions import DUPLICATE_IDENTITY, IdentityInUse

log = logging.getLogger(__name__)
bp = Blueprint("dial", __name__)
DEFAULT_REGION = "US"


def _hold(connection: psycopg.Connection, account: str, room: str, identity: str) -> None:
    """Wait for, then hold until the transaction ends, the lock on this room and identity."""
    key = "\n".join((account, room, identity))  # names hold no control characters
    connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


def _dialing(connection: psycopg.Connection, account: str, room: str) -> set[str]:
    """The identities of the team's calls into room that have not ended (ringing or on)."""
    rows = connection.execute(
        "SELECT DISTINCT identity FROM calls WHERE account = %s AND room = %s "
        "AND operator <> '' AND final_status = '' AND identity <> '' "
        "AND created_at > now() - %s",
        (account, room, LONGEST_CALL),
    ).fetchall()
    return {row[0] for row in rows}


@bp.post("/calls")
def dial() -> ResponseReturnValue:
    """Dial {"to", "from", "room", "identity"?, "region"?, "replace"?} into a room, as the
    console dials.

    409 (kind "identity_taken", with a free "suggestion") when the identity is connected in
    the room or a team call into the room under it has not ended, unless "replace" is true
    (the operator's "Dial anyway": the one in the room is disconnected).
    """
    data = body()
    replacing = data.get("replace", False)
    if replacing in ("true", "false"):  # a form field
        replacing = replacing == "true"
    if not isinstance(replacing, bool):
        raise ApiError(400, "replace must be true or false.", "invalid", field="replace")
    try:
        request = validate_request(
            text_field(data, "to"),
            text_field(data, "from"),
            text_field(data, "room"),
            text_field(data, "identity", required=False),
            text_field(data, "region", required=False) or DEFAULT_REGION,
        )
    except InvalidInput as error:
        raise invalid(error) from None
    parts, who = team(), operator()
    record, written = None, False
    try:
        with transaction() as connection:
            dialing: set[str] = set()
            if request.identity:
                _hold(connection, parts.account, request.room, request.identity)
                dialing = _dialing(connection, parts.account, request.room)
            call = parts.twilio.dial(
                request.to, request.from_, request.room, request.identity, dialing, replacing
            )
            call = replace(call, room=request.room, identity=request.identity)
            detail = {"call_sid": call.sid, "to": call.to, "room": call.room}
            placed = {**as_json(call), "operator": who.name}
            record = audit.record_of(who, "dial", detail, "call.placed", placed, as_json(call))
            audit.write(connection, parts.account, record)  # before the lock is let go
        written = True
        with transaction() as connection:
            audit.note_activity(connection, parts.account, record)
    except IdentityInUse as taken:
        raise ApiError(
            409,
            str(taken),
            "identity_taken",
            field="identity",
            code=DUPLICATE_IDENTITY,
            identity=taken.identity,
            room=taken.room,
            suggestion=taken.suggestion,
        ) from None
    except DatabaseError as error:
        if record is None:
            raise  # nothing was placed: the client may try again
        # The call is placed all the same: never report it failed (no redial).
        log.warning("call %s was placed; recording it: %s", call.sid, error)
        if not written:
            keep(record)
    return jsonify(call=as_json(call)), 201
