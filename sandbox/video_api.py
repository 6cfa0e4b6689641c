"""Video v1 routes: Rooms and their Participants, on Twilio's paths."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox import serialize
from sandbox.current import base_url, current_sandbox
from sandbox.errors import TwilioApiError
from sandbox.state import MAX_PARTICIPANTS

bp = Blueprint("video", __name__, url_prefix="/v1/Rooms")

ROOM_STATUSES = ("in-progress", "completed", "failed")
PARTICIPANT_STATUSES = ("connected", "disconnected", "reconnecting")


def _json(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _render_room(room) -> dict:
    sandbox = current_sandbox()
    with sandbox.state.lock:
        return serialize.room(room, sandbox.account_sid, base_url())


def _render_participant(participant) -> dict:
    sandbox = current_sandbox()
    with sandbox.state.lock:
        return serialize.participant(participant, sandbox.account_sid, base_url())


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise TwilioApiError(400, 20001, f"Invalid {name}: {value}")
    return value


@bp.post("")
def create_room() -> Response:
    """POST /v1/Rooms: create a room (group by default)."""
    form = request.form
    try:
        max_participants = int(form.get("MaxParticipants") or MAX_PARTICIPANTS)
    except ValueError:
        raise TwilioApiError(400, 53107, "Room MaxParticipants is out of range") from None
    method = (form.get("StatusCallbackMethod") or "POST").upper()
    _choice("StatusCallbackMethod", method, ("GET", "POST"))
    room = current_sandbox().state.create_room(
        form.get("UniqueName") or "",
        form.get("Type") or "group",
        max_participants,
        form.get("StatusCallback") or "",
        method,
    )
    return _json(_render_room(room), 201)


@bp.get("")
def list_rooms() -> Response:
    """GET /v1/Rooms: in-progress rooms unless Status says otherwise, newest first."""
    status = _choice("Status", request.args.get("Status"), ROOM_STATUSES) or "in-progress"
    name = request.args.get("UniqueName")
    rooms = current_sandbox().state.list_rooms(status, name)
    filters = {"Status": request.args.get("Status"), "UniqueName": name}
    body = serialize.video_list(
        "rooms",
        rooms,
        _render_room,
        serialize.Paging(request.args),
        f"{base_url()}/v1/Rooms",
        filters,
    )
    return _json(body)


@bp.get("/<room>")
def fetch_room(room: str) -> Response:
    """GET /v1/Rooms/{Sid or UniqueName}."""
    return _json(_render_room(current_sandbox().state.find_room(room)))


@bp.post("/<room>")
def update_room(room: str) -> Response:
    """POST /v1/Rooms/{Sid}: Status=completed ends the room and disconnects everyone."""
    state = current_sandbox().state
    found = state.find_room(room)
    status = request.form.get("Status")
    if status is None:
        raise TwilioApiError(400, 20001, "Missing required parameter Status in the post body")
    if found.status != "in-progress":
        raise TwilioApiError(400, 53118, "Room is completed")
    if status != "completed":
        raise TwilioApiError(400, 53117, f"Room status {status!r} is not a valid update")
    return _json(_render_room(state.end_room(found)), 202)


@bp.get("/<room>/Participants")
def list_participants(room: str) -> Response:
    """GET /v1/Rooms/{RoomSid}/Participants with the Status and Identity filters."""
    state = current_sandbox().state
    found = state.find_room(room)
    asked = _choice("Status", request.args.get("Status"), PARTICIPANT_STATUSES)
    status = asked or ("connected" if found.status == "in-progress" else "disconnected")
    identity = request.args.get("Identity")
    people = [
        p
        for p in state.participants_of(found.sid, status)
        if identity is None or p.identity == identity
    ]
    body = serialize.video_list(
        "participants",
        people,
        _render_participant,
        serialize.Paging(request.args),
        f"{base_url()}/v1/Rooms/{found.sid}/Participants",
        {"Status": asked, "Identity": identity},
    )
    return _json(body)


@bp.get("/<room>/Participants/<who>")
def fetch_participant(room: str, who: str) -> Response:
    """GET /v1/Rooms/{RoomSid}/Participants/{Sid or Identity}."""
    state = current_sandbox().state
    return _json(_render_participant(state.find_participant(state.find_room(room), who)))


@bp.post("/<room>/Participants/<who>")
def update_participant(room: str, who: str) -> Response:
    """POST …/Participants/{Sid}: Status=disconnected removes them and ends their call."""
    state = current_sandbox().state
    participant = state.find_participant(state.find_room(room), who)
    status = _choice("Status", request.form.get("Status"), PARTICIPANT_STATUSES)
    if status == "disconnected":
        state.disconnect(participant)
    elif status is not None and status != participant.status:
        raise TwilioApiError(400, 20001, f"Participant status {status!r} is not a valid update")
    return _json(_render_participant(participant), 202)
