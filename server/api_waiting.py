"""Team API: the waiting line (list, claim, put in a room, release)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from console.core.calls.dial_input import InvalidInput, check_identity, check_room
from console.core.gateways.gateway import TwilioError
from server import activity, waiting_line
from server.database import DatabaseError
from server.operators import Operator
from server.team_context import ApiError, body, operator, team, text_field, transaction
from server.waiting_line import ClaimedByOther, WaitingError

log = logging.getLogger(__name__)
bp = Blueprint("waiting", __name__)


def _refused(error: WaitingError) -> ApiError:
    kind = "claimed" if isinstance(error, ClaimedByOther) else "waiting"
    return ApiError(error.status, str(error), kind, holder=error.holder)


@bp.get("/waiting")
def waiting() -> ResponseReturnValue:
    """The callers waiting now, with who is handling each."""
    parts = team()
    with transaction() as connection:
        waiting_line.release_stale(connection, parts.account)
        callers = waiting_line.listed(connection, parts.account)
    return jsonify(waiting=[caller.as_json() for caller in callers])


@bp.post("/waiting/<call_sid>/claim")
def claim(call_sid: str) -> ResponseReturnValue:
    """Claim a caller: 200 for the one operator who wins, 409 naming the holder for the rest."""
    parts = team()
    try:
        with transaction() as connection:
            waiting_line.release_stale(connection, parts.account)
        with transaction() as connection:
            caller = waiting_line.claim(connection, parts.account, call_sid, operator())
    except WaitingError as error:
        raise _refused(error) from None
    return jsonify(waiting=caller.as_json())


@bp.post("/waiting/<call_sid>/place")
def place(call_sid: str) -> ResponseReturnValue:
    """Put a caller in {"room"} as {"identity"?}, claiming them first if nobody has."""
    data = body()
    try:
        room = check_room(text_field(data, "room"))
        identity = check_identity(text_field(data, "identity", required=False))
    except InvalidInput as error:
        raise ApiError(400, error.message, "invalid", field=error.field) from None
    parts, who = team(), operator()
    try:
        with transaction() as connection:
            caller = waiting_line.one(connection, parts.account, call_sid)
            if caller is not None and not caller.claimed_by:
                waiting_line.claim(connection, parts.account, call_sid, who)
        with transaction() as connection:  # off the line: nobody else can place them now
            caller = waiting_line.take(connection, parts.account, call_sid, who, room)
    except WaitingError as error:
        raise _refused(error) from None
    joining = identity or caller.identity
    try:
        call, joined_as = parts.twilio.put_in_room(call_sid, room, joining)
    except TwilioError as error:
        if not error.maybe_sent:
            _put_back(call_sid)
            raise
        # Twilio may have redirected them (a timeout, a 502): never put them back for a second
        # placement; recorded as placed, and the operator is told to look in the room.
        _record_placed(call_sid, who, room, joining)
        raise TwilioError(
            f"Twilio did not confirm putting the caller in {room} ({error.message}); they are "
            f"most likely there: check the room before doing anything else.",
            error.code,
            error.status,
        ) from None
    except BaseException:
        _put_back(call_sid)
        raise
    _record_placed(call_sid, who, room, joined_as)
    return jsonify(call_sid=call.sid, room=room, identity=joined_as)


def _record_placed(call_sid: str, who: Operator, room: str, identity: str) -> None:
    """The caller is (or most likely is) in the room: history and every console hear it."""
    account = team().account
    try:
        with transaction() as connection:
            waiting_line.placed(connection, account, call_sid, who, room, identity)
        with transaction() as connection:
            activity.note(connection, account, who.name)
    except DatabaseError:  # the caller is in the room all the same: say so
        log.exception("caller %s was put in %s but that could not be recorded", call_sid, room)


def _put_back(call_sid: str) -> None:
    """Twilio refused the redirect: the caller waits again, still claimed by this operator."""
    try:
        with transaction() as connection:
            waiting_line.not_taken(connection, team().account, call_sid, operator())
    except DatabaseError:
        log.exception("caller %s could not be put back on the line", call_sid)


@bp.post("/waiting/<call_sid>/release")
def release(call_sid: str) -> ResponseReturnValue:
    """Give a claimed caller back to the team."""
    parts = team()
    try:
        with transaction() as connection:
            waiting_line.release(connection, parts.account, call_sid, operator())
    except WaitingError as error:
        raise _refused(error) from None
    return jsonify(ok=True)
