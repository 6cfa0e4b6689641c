"""Video v1 routes for a room's media: Subscribe Rules, Recording Rules and Recordings.

Registered inside the Rooms blueprint (video_api), so the paths are Twilio's:
/v1/Rooms/{Room}/Participants/{Participant}/SubscribeRules, /v1/Rooms/{Room}/RecordingRules,
/v1/Rooms/{Room}/Recordings[/{Sid}].
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox import serialize
from sandbox.current import base_url, current_sandbox
from sandbox.date_filters import BEFORE, FROM, admitted, read_bounds
from sandbox.errors import TwilioApiError, UnknownResource
from sandbox.models import Recording
from sandbox.track_rules import RECORDING, SUBSCRIBE, parse_rules

bp = Blueprint("media", __name__)

RECORDING_STATUSES = ("processing", "completed", "deleted", "failed")
CREATED_FILTERS = {"DateCreatedAfter": FROM, "DateCreatedBefore": BEFORE}


def _subscribe_rules(room: str, who: str) -> Response:
    state = current_sandbox().state
    participant = state.find_participant(state.find_room(room), who)
    if request.method == "POST":
        state.set_subscribe_rules(participant, parse_rules(request.form.get("Rules"), SUBSCRIBE))
    with state.lock:
        return jsonify(serialize.subscribe_rules(participant))


@bp.get("/<room>/Participants/<who>/SubscribeRules")
def fetch_subscribe_rules(room: str, who: str) -> Response:
    """GET …/SubscribeRules: the rules in force (Twilio's default: subscribe to everything)."""
    return _subscribe_rules(room, who)


@bp.post("/<room>/Participants/<who>/SubscribeRules")
def update_subscribe_rules(room: str, who: str) -> Response:
    """POST …/SubscribeRules with Rules (JSON): replaces every rule; 53215 if any is invalid."""
    return _subscribe_rules(room, who)


def _recording_rules(room: str) -> Response:
    state = current_sandbox().state
    found = state.find_room(room)
    if request.method == "POST":
        state.set_recording_rules(found, parse_rules(request.form.get("Rules"), RECORDING))
    with state.lock:
        return jsonify(serialize.recording_rules(found, state.media.rules_in_force(found)))


@bp.get("/<room>/RecordingRules")
def fetch_recording_rules(room: str) -> Response:
    """GET /v1/Rooms/{Room}/RecordingRules: the rules in force (none: nothing is recorded)."""
    return _recording_rules(room)


@bp.post("/<room>/RecordingRules")
def update_recording_rules(room: str) -> Response:
    """POST …/RecordingRules with Rules (JSON): recordings start and stop to match; 53120."""
    return _recording_rules(room)


def _render_recording(recording: Recording) -> dict:
    sandbox = current_sandbox()
    with sandbox.state.lock:
        return serialize.recording(recording, sandbox.account_sid, base_url())


@bp.get("/<room>/Recordings")
def list_recordings(room: str) -> Response:
    """GET /v1/Rooms/{Room}/Recordings: one per recorded track, with Twilio's filters."""
    state = current_sandbox().state
    found = state.find_room(room)
    args = request.args
    status = args.get("Status")
    if status is not None and status not in RECORDING_STATUSES:
        raise TwilioApiError(400, 20001, f"Invalid Status: {status}")
    source = args.get("SourceSid")
    created = read_bounds(args, CREATED_FILTERS)
    with state.lock:
        recordings = [
            r
            for r in state.media.of_room(found.sid)
            if (status is None or r.status == status)
            and (source is None or r.track.sid == source)
            and admitted(r.created, created)
        ]
    filters = {"Status": status, "SourceSid": source}
    filters.update({bound.name: args[bound.name] for bound in created})
    body = serialize.video_list(
        "recordings",
        recordings,
        _render_recording,
        serialize.Paging(args),
        f"{base_url()}/v1/Rooms/{found.sid}/Recordings",
        filters,
    )
    return jsonify(body)


@bp.get("/<room>/Recordings/<sid>")
def fetch_recording(room: str, sid: str) -> Response:
    """GET /v1/Rooms/{Room}/Recordings/{Sid}."""
    state = current_sandbox().state
    found = state.find_room(room)
    with state.lock:
        recording = state.media.recordings.get(sid)
    if recording is None or recording.room_sid != found.sid:
        raise UnknownResource(f"Recording {sid}")
    return jsonify(_render_recording(recording))
