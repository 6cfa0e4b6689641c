"""Team API: room controls, as Twilio holds them (Subscribe Rules, Recording Rules, recordings).

The console's room controls (console/core/calls/room_controls.py) work on these rules
through its team gateway exactly as they do on Twilio's; each change is recorded with its
operator and told to every console as an "action" event, so other consoles read the rules back.
The server learns each room's mutes from the rules posted (server/mutes.py), to keep them
applied for whoever joins later, and keeps each room's recording (server/room_recordings.py).
The action log says what each post did: mute, unmute, record, stop_recording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from server import action_log, event_log, mutes, room_recordings
from server.team_context import ApiError, as_json, body, operator, team, transaction

bp = Blueprint("controls", __name__)
MAX_RULES = 20  # Twilio takes at most 20 rules per request


def _rules() -> list[dict[str, Any]]:
    """The request's {"rules": [...]}, each rule an object; a 400 otherwise."""
    rules = body().get("rules")
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ApiError(400, "rules must be a list of rule objects.", "invalid", field="rules")
    if len(rules) > MAX_RULES:
        raise ApiError(400, f"At most {MAX_RULES} rules at once.", "invalid", field="rules")
    return rules


@bp.get("/rooms/<room_sid>/participants/<participant>/subscribe_rules")
def subscribe_rules(room_sid: str, participant: str) -> ResponseReturnValue:
    """What one participant receives (their Subscribe Rules)."""
    return jsonify(rules=team().twilio.gateway.subscribe_rules(room_sid, participant))


@bp.post("/rooms/<room_sid>/participants/<participant>/subscribe_rules")
def set_subscribe_rules(room_sid: str, participant: str) -> ResponseReturnValue:
    """Replace what one participant receives (how a mute is made)."""
    rules = _rules()
    gateway = team().twilio.gateway
    gateway.set_subscribe_rules(room_sid, participant, rules)
    detail = {"room_sid": room_sid, "participant": participant}
    _done("subscribe_rules", detail, lambda connection: _learn_mutes(connection, detail, rules))
    return jsonify(ok=True)


def _learn_mutes(
    connection: psycopg.Connection, detail: dict[str, Any], rules: list[dict[str, Any]]
) -> str | None:
    """Keep the room's mutes as the posted rules tell them (for later joiners); "mute" or
    "unmute" (with who, in detail) when the post changed them."""
    if mutes.muting_whom(rules) is None:
        return None
    parts, room_sid, who = team(), detail["room_sid"], detail["participant"]
    identity = mutes.identity_of(connection, parts.account, room_sid, who)
    if not identity:  # joined before any callback reached the team: ask Twilio
        people = parts.twilio.gateway.list_participants(room_sid)
        identity = next((p.identity for p in people if p.sid == who), "")
    mutes.lock_room(connection, room_sid)
    before = mutes.of_room(connection, parts.account, room_sid)
    after = mutes.learn(connection, parts.account, room_sid, identity, rules, operator().id)
    if after is None or after == before:
        return None
    if after - before:
        detail["identities"] = sorted(after - before)
        return "mute"
    detail["identities"] = sorted(before - after)
    return "unmute"


@bp.get("/rooms/<room_sid>/recording_rules")
def recording_rules(room_sid: str) -> ResponseReturnValue:
    """A room's Recording Rules: as the team last set them, or Twilio's when it never did."""
    parts = team()
    with transaction() as connection:
        rules = room_recordings.rules_of(connection, parts.account, room_sid)
    if rules is None:
        rules = parts.twilio.gateway.recording_rules(room_sid)
    return jsonify(rules=rules)


@bp.post("/rooms/<room_sid>/recording_rules")
def set_recording_rules(room_sid: str) -> ResponseReturnValue:
    """Replace a room's Recording Rules: recordings start and stop to match."""
    rules = _rules()
    team().twilio.gateway.set_recording_rules(room_sid, rules)
    _done(
        "recording_rules",
        {"room_sid": room_sid},
        lambda connection: room_recordings.change(
            connection, team().account, room_sid, rules, operator().id
        ),
    )
    return jsonify(ok=True)


@bp.get("/rooms/<room_sid>/recordings")
def recordings(room_sid: str) -> ResponseReturnValue:
    """A room's recordings, one a recorded track."""
    return jsonify(recordings=as_json(team().twilio.gateway.list_recordings(room_sid)))


def _done(
    kind: str,
    detail: dict[str, Any],
    also: Callable[[psycopg.Connection], str | None] | None = None,
) -> None:
    """Record the change with its operator, and tell every console.

    also keeps what goes with the change and names it for the action log ("mute", "record",
    …; kind when it names nothing). The event keeps kind as its action, which consoles read
    the room's controls again on, and says the change besides.
    """
    parts, who = team(), operator()
    with transaction() as connection:
        action = (also(connection) if also is not None else None) or kind
        action_log.record(connection, parts.account, who.id, action, detail)
        data = {"action": kind, "change": action, "operator": who.name, **detail}
        event_log.append(connection, parts.account, "action", data)
