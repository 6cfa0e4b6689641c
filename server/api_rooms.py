"""Team API: rooms and participants, hanging up, moving, and the account's numbers."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, jsonify
from flask import request as flask_request
from flask.typing import ResponseReturnValue

from console.core.calls.dial_input import InvalidInput, check_identity, check_room
from console.core.calls.records import Participant
from server import audit
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

bp = Blueprint("rooms", __name__)
MAX_PARTICIPANTS = 50  # Twilio's largest group room


def invalid(error: InvalidInput) -> ApiError:
    """A dial-pad check's refusal as a 400 naming its field."""
    return ApiError(400, error.message, "invalid", field=error.field)


@bp.get("/rooms")
def rooms() -> ResponseReturnValue:
    """The in-progress rooms with their participant counts."""
    return jsonify(rooms=as_json(team().twilio.gateway.list_rooms()))


@bp.post("/rooms")
def create_room() -> ResponseReturnValue:
    """Create a group room: {"name", "max_participants"?}."""
    data = body()
    try:
        name = check_room(text_field(data, "name"))
    except InvalidInput as error:
        raise invalid(error) from None
    limit = data.get("max_participants")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PARTICIPANTS
    ):
        raise ApiError(
            400,
            f"max_participants must be a whole number from 1 to {MAX_PARTICIPANTS}.",
            "invalid",
            field="max_participants",
        )
    parts = team()
    room = parts.twilio.gateway.create_room(
        name, limit, status_callback=parts.twilio.room_status_url
    )
    _done("room.create", {"room": name, "room_sid": room.sid})
    return jsonify(room=as_json(room)), 201


@bp.post("/rooms/<room_sid>/end")
def end_room(room_sid: str) -> ResponseReturnValue:
    """End a room, which disconnects everyone in it."""
    team().twilio.gateway.end_room(room_sid)
    _done("room.end", {"room_sid": room_sid})
    return jsonify(ok=True)


@bp.get("/rooms/<room_sid>/participants")
def participants(room_sid: str) -> ResponseReturnValue:
    """The connected participants, with the team's call for each phone or SIP participant."""
    people = team().twilio.gateway.list_participants(room_sid)
    name = flask_request.args.get("name", "") or _room_name(room_sid)
    if name and people:
        people = _with_calls(name, people)
    return jsonify(participants=as_json(people))


def _room_name(room_sid: str) -> str:
    """The room's name from its callbacks (the console may also pass ?name=)."""
    with transaction() as connection:
        row = connection.execute(
            "SELECT room_name FROM room_events WHERE account = %s AND room_sid = %s "
            "AND room_name <> '' ORDER BY id DESC LIMIT 1",
            (team().account, room_sid),
        ).fetchone()
    return row[0] if row else ""


def _with_calls(room: str, people: list[Participant]) -> list[Participant]:
    parts = team()
    with transaction() as connection:
        rows = connection.execute(
            'SELECT DISTINCT ON (identity) identity, sid, status, "to", from_, direction '
            "FROM calls WHERE account = %s AND room = %s AND identity = ANY(%s) "
            "ORDER BY identity, created_at DESC",
            (parts.account, room, [p.identity for p in people]),
        ).fetchall()
    calls = {row[0]: row[1:] for row in rows}
    enriched = []
    for person in people:
        call = calls.get(person.identity)
        if call is None:
            enriched.append(replace(person, kind=person.kind or "video"))
            continue
        sid, status, to, from_, direction = call
        party = from_ if direction == "inbound" else to
        kind = "sip" if party.lower().startswith("sip:") else "phone"
        enriched.append(replace(person, kind=kind, call_sid=sid, call_status=status))
    return enriched


@bp.post("/rooms/<room_sid>/participants/<participant_sid>/disconnect")
def disconnect(room_sid: str, participant_sid: str) -> ResponseReturnValue:
    """Disconnect one participant (their call ends too)."""
    team().twilio.gateway.disconnect_participant(room_sid, participant_sid)
    _done("participant.disconnect", {"room_sid": room_sid, "participant_sid": participant_sid})
    return jsonify(ok=True)


@bp.post("/calls/<call_sid>/hangup")
def hang_up(call_sid: str) -> ResponseReturnValue:
    """End a call: completed if answered, canceled if still ringing."""
    team().twilio.gateway.hang_up(call_sid)
    _done("hangup", {"call_sid": call_sid})
    return jsonify(ok=True)


@bp.post("/calls/<call_sid>/move")
def move(call_sid: str) -> ResponseReturnValue:
    """Move a connected call to {"room"}, keeping {"identity"}."""
    data = body()
    try:
        room = check_room(text_field(data, "room"))
        identity = check_identity(text_field(data, "identity"))
    except InvalidInput as error:
        raise invalid(error) from None
    call = team().twilio.move(call_sid, identity, room)
    who = operator()
    detail = {"call_sid": call_sid, "room": room, "identity": identity}
    data = {**detail, "operator": who.name}
    keep(audit.record_of(who, "move", detail, "call.moved", data, moved=(call_sid, room)))
    return jsonify(call=as_json(replace(call, room=room, identity=identity)))


@bp.get("/numbers")
def numbers() -> ResponseReturnValue:
    """The account's phone numbers, for the caller-ID choice."""
    return jsonify(numbers=as_json(team().twilio.gateway.list_numbers()))


def _done(action: str, detail: dict) -> None:
    """Record an action the operator took, and tell every console (spooled while the
    database is away: Twilio has acted, so the request succeeds all the same)."""
    keep(audit.record_of(operator(), action, detail))
