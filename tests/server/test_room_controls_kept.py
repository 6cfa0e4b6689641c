"""Room controls through the team server: each mute, unmute, record and stop in the action log
with its operator, and recordings kept in the database for consoles to read back."""

from __future__ import annotations

from console.core.calls.room_controls import EXCLUDE_ALL, INCLUDE_ALL, RoomControls
from server import action_log, event_log, room_recordings
from tests.helpers import wait_until
from tests.helpers.sandbox_faults import Faults

FROM = "+15005550006"  # the sandbox account's number
CONTROLS = {"mute", "unmute", "record", "stop_recording"}


def _actions(team_server) -> list[tuple[str, str, dict]]:
    """The action log, oldest first: (operator, action, detail)."""
    with team_server.database.connection() as connection:
        recent = action_log.recent(connection, team_server.account)
    return [(name, action, detail) for _, name, action, detail in reversed(recent)]


def test_mute_unmute_record_and_stop_are_logged_with_their_operator(team_server, ops_room):
    room, alice, bob = ops_room
    RoomControls(alice).set_muted(room.sid, "ann")
    controls = RoomControls(bob)
    controls.read_back(room.sid)
    controls.set_muted(room.sid, "ann", muted=False)
    RoomControls(alice).set_recording(room.sid)
    RoomControls(bob).set_recording(room.sid, False)
    logged = [
        (name, action, detail.get("identities"))
        for name, action, detail in _actions(team_server)
        if detail.get("room_sid") == room.sid and action in CONTROLS
    ]
    assert logged == [
        ("alice", "mute", ["ann"]),
        ("bob", "unmute", ["ann"]),
        ("alice", "record", None),
        ("bob", "stop_recording", None),
    ]
    with team_server.database.connection() as connection:
        events = [e.data for e in event_log.after(connection, team_server.account, 0)]
    changes = [(e.get("action"), e.get("change")) for e in events if e.get("room_sid") == room.sid]
    assert ("subscribe_rules", "mute") in changes  # consoles read the controls again on these
    assert ("recording_rules", "stop_recording") in changes


def test_a_recording_is_kept_with_its_rules_and_read_back_from_the_database(
    team_server, ops_room, sandbox, sandbox_server
):
    room, alice, bob = ops_room
    RoomControls(alice).set_recording(room.sid)
    with team_server.database.connection() as connection:
        assert room_recordings.recording(connection, team_server.account) == [
            (room.sid, "Ops", "alice")
        ]
    twilio = Faults(sandbox_server.url, (sandbox.account_sid, sandbox.auth_token))
    twilio.set(ErrorShare=1, PathPrefix=f"/v1/Rooms/{room.sid}/RecordingRules")
    try:  # Twilio is not asked: the rules come from the database
        assert bob.recording_rules(room.sid) == [INCLUDE_ALL]
        assert RoomControls(bob).read_recording(room.sid) is True
    finally:
        twilio.clear()
    RoomControls(bob).set_recording(room.sid, False)
    assert bob.recording_rules(room.sid) == [EXCLUDE_ALL]
    with team_server.database.connection() as connection:
        assert room_recordings.recording(connection, team_server.account) == []
        stopped = connection.execute(
            "SELECT r.rules, r.stop_rules, o.name FROM recordings r "
            "JOIN operators o ON o.id = r.stopped_by WHERE r.room_sid = %s",
            (room.sid,),
        ).fetchall()
    assert stopped == [([INCLUDE_ALL], [EXCLUDE_ALL], "bob")]


def test_a_recording_ends_with_its_room(team_server, ops_room):
    room, alice, _ = ops_room
    RoomControls(alice).set_recording(room.sid)
    for call in alice.list_participants(room.sid):
        alice.hang_up(call.call_sid)
    wait_until(lambda: not alice.list_participants(room.sid), timeout=10)

    def recording() -> list:
        with team_server.database.connection() as connection:
            return room_recordings.recording(connection, team_server.account)

    assert recording() == [(room.sid, "Ops", "alice")]
    alice.end_room(room.sid)
    wait_until(lambda: recording() == [], timeout=10)  # the room-ended callback
    with team_server.database.connection() as connection:
        ended = connection.execute(
            "SELECT stopped_at IS NOT NULL, stopped_by FROM recordings WHERE room_sid = %s",
            (room.sid,),
        ).fetchall()
    assert ended == [(True, None)]  # nobody stopped it: the room ended
