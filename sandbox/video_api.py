"""Video v1 routes: Rooms and their Participants, on Twilio's paths (media: room_rules_api)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox import room_rules_api, serialize
from sandbox.core import is_http_url
from sandbox.current import base_url, current_sandbox
from sandbox.date_filters import BEFORE, FROM, admitted, read_bounds
from sandbox.errors import TwilioApiError
from sandbox.models import DEFAULT_ROOM_TIMEOUT
from sandbox.state import MAX_PARTICIPANTS
from sandbox.track_rules import RECORDING, parse_rules

bp = Blueprint("video", __name__, url_prefix="/v1/Rooms")
bp.register_blueprint(room_rules_api.bp)

ROOM_STATUSES = ("in-progress", "completed", "failed")
PARTICIPANT_STATUSES = ("connected", "disconnected", "reconnecting")
MAX_URL_LENGTH = 1024  # Twilio's limit for a StatusCallback (53111)
MAX_TIMEOUT_MINUTES = 60  # EmptyRoomTimeout and UnusedRoomTimeout: 1 to 60 minutes (53109)
# Both lists: "After" takes records created at or after the moment, "Before" those before it.
CREATED_FILTERS = {"DateCreatedAfter": FROM, "DateCreatedBefore": BEFORE}


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


def _timeout(form, name: str) -> int:
    """A room timeout in whole minutes, 1 to 60; Twilio's 53109 otherwise."""
    raw = form.get(name)
    if raw is None or raw == "":
        return DEFAULT_ROOM_TIMEOUT
    try:
        minutes = int(raw)
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= MAX_TIMEOUT_MINUTES:
        raise TwilioApiError(400, 53109, f"{name} is out of range: {raw[:40]}")
    return minutes


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
    if method not in ("GET", "POST"):
        raise TwilioApiError(400, 53110, f"StatusCallbackMethod is invalid: {method}")
    callback = form.get("StatusCallback") or ""
    if callback and (not is_http_url(callback) or len(callback) >= MAX_URL_LENGTH):
        raise TwilioApiError(400, 53111, f"StatusCallback is invalid: {callback[:200]}")
    rules = form.get("RecordingRules")
    room = current_sandbox().state.create_room(
        form.get("UniqueName") or "",
        form.get("Type") or "group",
        max_participants,
        callback,
        method,
        empty_room_timeout=_timeout(form, "EmptyRoomTimeout"),
        unused_room_timeout=_timeout(form, "UnusedRoomTimeout"),
        record_on_connect=(form.get("RecordParticipantsOnConnect") or "").lower() == "true",
        recording_rules=None if rules is None else parse_rules(rules, RECORDING),
    )
    return _json(_render_room(room), 201)


@bp.get("")
def list_rooms() -> Response:
    """GET /v1/Rooms: in-progress rooms unless Status says otherwise, newest first."""
    args = request.args
    status = _choice("Status", args.get("Status"), ROOM_STATUSES) or "in-progress"
    name = args.get("UniqueName")
    created = read_bounds(args, CREATED_FILTERS)
    rooms = [
        r for r in current_sandbox().state.list_rooms(status, name) if admitted(r.created, created)
    ]
    filters = {"Status": args.get("Status"), "UniqueName": name}
    filters.update({bound.name: args[bound.name] for bound in created})
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
    if status != "completed":
        raise TwilioApiError(400, 53112, f"Status is invalid: {status!r}")
    return _json(_render_room(state.end_room(found)), 202)


@bp.get("/<room>/Participants")
def list_participants(room: str) -> Response:
    """GET /v1/Rooms/{RoomSid}/Participants with the Status, Identity and date filters."""
    state = current_sandbox().state
    found = state.find_room(room)
    args = request.args
    asked = _choice("Status", args.get("Status"), PARTICIPANT_STATUSES)
    status = asked or ("connected" if found.status == "in-progress" else "disconnected")
    identity = args.get("Identity")
    created = read_bounds(args, CREATED_FILTERS)
    people = [
        p
        for p in state.participants_of(found.sid, status)
        if (identity is None or p.identity == identity) and admitted(p.created, created)
    ]
    filters = {"Status": asked, "Identity": identity}
    filters.update({bound.name: args[bound.name] for bound in created})
    body = serialize.video_list(
        "participants",
        people,
        _render_participant,
        serialize.Paging(request.args),
        f"{base_url()}/v1/Rooms/{found.sid}/Participants",
        filters,
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
