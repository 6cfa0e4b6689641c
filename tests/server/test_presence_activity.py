"""Presence with activity: who is online and on a call with whom, told as it changes."""

from __future__ import annotations

import requests

from console.core.number_text import display_number, international
from server import activity
from tests.helpers.event_stream import EventStreamReader
from tests.helpers.signing import twilio_signature
from tests.server.test_waiting_line import HOLD_ALL, NUMBER

FROM = "+15005550006"
LONDON = "+442079460000"


def _operators(session, team_server) -> dict:
    answer = session.get(team_server.api("/operators"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _next_activity(stream: EventStreamReader, operator: str) -> dict:
    while True:
        data = stream.next_of("operator.activity").data["data"]
        if data["operator"] == operator:
            return data


def test_an_operator_on_a_dialed_call_shows_its_number_until_it_ends(team_server):
    token = team_server.token("alice")
    alice = team_server.session("alice-admin")
    alice.headers["Authorization"] = f"Bearer {token}"
    stream = EventStreamReader(team_server.api("/events"), token)
    try:
        stream.next_of("hello")
        idle = _operators(alice, team_server)
        assert idle["online"] == ["alice"]
        assert idle["operators"] == [{"name": "alice", "activity": "idle", "call_sid": ""}]
        placed = alice.post(
            team_server.api("/calls"),
            json={"to": LONDON, "from": FROM, "room": "Desk", "identity": "ann"},
            timeout=10,
        )
        assert placed.status_code == 201, placed.text
        sid = placed.json()["call"]["sid"]
        told = _next_activity(stream, "alice")
        assert told == {
            "operator": "alice",
            "activity": "on a call with +44 20 7946 0000",
            "call_sid": sid,
        }
        busy = _operators(alice, team_server)["operators"]
        assert busy == [{"name": "alice", "activity": told["activity"], "call_sid": sid}]
        assert alice.post(team_server.api(f"/calls/{sid}/hangup"), timeout=10).ok
        assert _next_activity(stream, "alice") == {
            "operator": "alice",
            "activity": "idle",
            "call_sid": "",
        }
        assert _operators(alice, team_server)["operators"][0]["activity"] == "idle"
    finally:
        stream.close()


def test_a_placed_caller_makes_the_operator_busy_and_others_stay_idle(team_server, sandbox):
    admin = team_server.session("admin")
    routes = admin.put(team_server.api("/routes"), json={"toml": HOLD_ALL, "version": 0})
    assert routes.status_code == 200, routes.text
    tokens = {name: team_server.token(name) for name in ("bob", "carol")}
    streams = {
        name: EventStreamReader(team_server.api("/events"), token) for name, token in tokens.items()
    }
    try:
        for stream in streams.values():
            stream.next_of("hello")
        call = sandbox.incoming_call("+447700900123", NUMBER)
        streams["bob"].next_of("waiting.added")
        bob = team_server.session("bob-2")
        bob.headers["Authorization"] = f"Bearer {tokens['bob']}"
        placed = bob.post(
            team_server.api(f"/waiting/{call.sid}/place"), json={"room": "Support"}, timeout=10
        )
        assert placed.status_code == 200, placed.text
        told = _next_activity(streams["carol"], "bob")  # every console hears of it
        assert told["activity"] == "on a call with +44 7700 900123"
        listing = _operators(bob, team_server)
        assert listing["online"] == ["bob", "carol"]
        assert listing["operators"] == [
            {"name": "bob", "activity": "on a call with +44 7700 900123", "call_sid": call.sid},
            {"name": "carol", "activity": "idle", "call_sid": ""},
        ]
    finally:
        for stream in streams.values():
            stream.close()


def test_an_unchanged_activity_is_told_once_and_calls_without_operator_tell_nothing(
    team_server,
):
    account = team_server.account
    with team_server.database.connection() as connection:
        connection.execute(
            'INSERT INTO calls (account, sid, direction, "to", created_at, operator) '
            "VALUES (%s, 'CA1', 'outbound-api', '+15551230001', now(), 'dora')",
            (account,),
        )
    with team_server.database.connection() as connection:
        first = activity.note(connection, account, "dora")
    with team_server.database.connection() as connection:
        again = activity.note(connection, account, "dora")
        nobody = activity.note(connection, account, "")
        count = connection.execute(
            "SELECT count(*) FROM event_log WHERE kind = 'operator.activity'"
        ).fetchone()[0]
    assert first is not None and first.activity == "on a call with +1 555-123-0001"
    assert again is None and nobody is None
    assert count == 1


def test_numbers_are_shown_internationally_and_sip_as_given():
    assert international("+442079460000") == "+44 20 7946 0000"
    assert international("sip:desk@example.com") == "sip:desk@example.com"
    assert international("+999") == "+999"
    assert display_number("+442079460000") == "+44 20 7946 0000 (GB)"  # the tables add the country


def test_every_status_of_a_dialed_call_names_its_room_and_identity(team_server):
    session = team_server.session("erin")
    stream = EventStreamReader(team_server.api("/events"), team_server.token("watcher"))
    try:
        stream.next_of("hello")
        placed = session.post(
            team_server.api("/calls"),
            json={"to": "+15551230007", "from": FROM, "room": "Standup", "identity": "ann"},
            timeout=10,
        ).json()["call"]
        statuses = []
        while "in-progress" not in [s for s, _, _ in statuses]:
            data = stream.next_of("call.status").data["data"]
            assert data["sid"] == placed["sid"]
            statuses.append((data["status"], data["room"], data["identity"]))
        # the first status (often ahead of the dial's own record) names them too
        assert {(room, identity) for _, room, identity in statuses} == {("Standup", "ann")}
    finally:
        stream.close()


def test_a_status_ahead_of_its_call_record_takes_room_and_identity_from_its_signed_url(
    team_server, sandbox
):
    stream = EventStreamReader(team_server.api("/events"), team_server.token("watcher"))
    try:
        stream.next_of("hello")
        url = f"{team_server.url}/voice/status?room=Ops&identity=ann"
        fields = {"CallSid": "CA" + "7" * 32, "CallStatus": "initiated", "To": "+15551230001"}
        signature = twilio_signature(sandbox.auth_token, url, fields)
        answer = requests.post(url, data=fields, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 204, answer.text
        data = stream.next_of("call.status").data["data"]
        assert (data["sid"], data["room"], data["identity"]) == (fields["CallSid"], "Ops", "ann")
        forged = requests.post(
            f"{team_server.url}/voice/status?room=Other&identity=eve",
            data=fields,
            headers={"X-Twilio-Signature": signature},
        )
        assert forged.status_code == 403  # the room and identity are signed with the URL
    finally:
        stream.close()
    with team_server.database.connection() as connection:
        row = connection.execute(
            "SELECT room, identity FROM calls WHERE sid = %s", (fields["CallSid"],)
        ).fetchone()
    assert row == ("Ops", "ann")
