"""The team API over the sandbox: tokens, rooms, dialing, history, routes."""

from __future__ import annotations

import csv
import io

import requests

from console.core.calls.history import CSV_COLUMNS
from server import action_log, operators
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader


def test_a_request_without_a_token_gets_401_json(team_server):
    answer = requests.get(team_server.api("/rooms"), timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["kind"] == "auth"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_on_its_next_request(team_server):
    session = team_server.session("alice")
    assert session.get(team_server.api("/me"), timeout=10).json()["operator"] == "alice"
    with team_server.database.connection() as connection:
        operators.revoke(connection, team_server.account, "alice")
    answer = session.get(team_server.api("/me"), timeout=10)
    assert answer.status_code == 401
    assert "revoked" in answer.json()["error"]["message"]


def test_dialing_creates_the_room_places_the_call_and_records_who(team_server):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api("/calls"),
        json={"to": "+15551230001", "from": "+15005550006", "room": "Standup", "identity": "ann"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    call = answer.json()["call"]
    assert call["room"] == "Standup" and call["identity"] == "ann"
    rooms = session.get(team_server.api("/rooms"), timeout=10).json()["rooms"]
    assert [room["unique_name"] for room in rooms] == ["Standup"]
    history = session.get(team_server.api("/history?text=Standup"), timeout=10).json()["calls"]
    assert [(row["sid"], row["operator"]) for row in history] == [(call["sid"], "alice")]
    with team_server.database.connection() as connection:
        actions = action_log.recent(connection, team_server.account)
    assert ("alice", "dial") in [(name, action) for _, name, action, _ in actions]


def test_a_bad_number_is_refused_with_the_field(team_server):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api("/calls"),
        json={"to": "not a number", "from": "+15005550006", "room": "Standup"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "number"


def test_twilio_errors_come_back_with_twilio_code(team_server):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api("/calls"),
        json={"to": "+15005550001", "from": "+15005550006", "room": "Standup"},
        timeout=10,
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["kind"], error["code"]) == ("twilio", 21211)


def test_routes_are_validated_as_routes_toml_and_versioned(team_server):
    alice, bob = team_server.session("alice"), team_server.session("bob")
    assert alice.get(team_server.api("/routes"), timeout=10).json() == {"version": 0, "toml": ""}
    bad = alice.put(
        team_server.api("/routes"),
        json={"toml": '[[route]]\nnumber = "+15005550006"\nrom = "X"\n', "version": 0},
        timeout=10,
    )
    assert bad.status_code == 422
    assert (bad.json()["error"]["line"], bad.json()["error"]["key"]) == (3, "rom")
    good = '[[route]]\nnumber = "+15005550006"\nroom = "Standup"\n'
    saved = alice.put(team_server.api("/routes"), json={"toml": good, "version": 0}, timeout=10)
    assert saved.json()["version"] == 1
    # bob started from version 0 too: told the routes changed, and shown the new ones
    late = bob.put(team_server.api("/routes"), json={"toml": "", "version": 0}, timeout=10)
    assert late.status_code == 409
    assert late.json()["error"]["toml"] == good and late.json()["error"]["version"] == 1


def test_a_saved_route_takes_effect_on_the_next_call(team_server, sandbox):
    session = team_server.session("alice")
    good = '[[route]]\nnumber = "+15005550006"\nroom = "Standup"\n'
    session.put(team_server.api("/routes"), json={"toml": good, "version": 0}, timeout=10)
    session.post(team_server.api("/rooms"), json={"name": "Standup"}, timeout=10)
    call = sandbox.incoming_call("+15557654321", "+15005550006")
    rooms = session.get(team_server.api("/rooms"), timeout=10).json()["rooms"]
    sid = rooms[0]["sid"]

    def joined() -> list[dict]:
        url = team_server.api(f"/rooms/{sid}/participants")
        return session.get(url, timeout=10).json()["participants"]

    people = wait_until(joined, timeout=10, interval=0.05)
    assert [p["identity"] for p in people] == ["phone-4321"]
    assert call.sid


def test_status_callbacks_are_recorded_before_the_204(team_server):
    session = team_server.session("alice")
    stream = EventStreamReader(team_server.api("/events"), team_server.token("watcher"))
    try:
        stream.next_of("hello")
        placed = session.post(
            team_server.api("/calls"),
            json={
                "to": "+15551230001",
                "from": "+15005550006",
                "room": "Standup",
                "identity": "ann",
            },
            timeout=10,
        ).json()["call"]
        statuses = []
        while "in-progress" not in statuses:
            data = stream.next_of("call.status").data["data"]
            assert data["sid"] == placed["sid"]
            statuses.append(data["status"])
        # The first callbacks may beat the dial's own record; by the answer, room and identity
        # are known (console: call.placed carries them too).
        assert (data["room"], data["identity"], data["operator"]) == ("Standup", "ann", "alice")
        history = session.get(team_server.api(f"/history/{placed['sid']}/statuses"), timeout=10)
        assert set(statuses) <= {s["status"] for s in history.json()["statuses"]}
    finally:
        stream.close()


def test_unsigned_callbacks_are_refused_and_not_recorded(team_server):
    answer = requests.post(
        f"{team_server.url}/voice/status", data={"CallSid": "CAx", "CallStatus": "completed"}
    )
    assert answer.status_code == 403
    with team_server.database.connection() as connection:
        assert connection.execute("SELECT count(*) FROM calls").fetchone()[0] == 0


def test_history_exports_csv_with_the_desktop_columns_and_the_operator(team_server):
    session = team_server.session("alice")
    session.post(
        team_server.api("/calls"),
        json={"to": "+15551230001", "from": "+15005550006", "room": "Standup"},
        timeout=10,
    )
    answer = session.get(team_server.api("/history.csv?text=5551230001"), timeout=10)
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == [*CSV_COLUMNS, "operator"]
    assert len(rows) == 2 and rows[1][rows[0].index("room")] == "Standup"
    assert rows[1][-1] == "alice"
