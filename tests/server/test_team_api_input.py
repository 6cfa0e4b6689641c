"""The team API against bad input and duplicate dials: clear JSON errors, nothing lost."""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
import requests

from console.core.gateways.gateway import TwilioError
from console.core.gateways.team_gateway import TeamGateway
from server import action_log
from server.app import PARTS_KEY
from server.team_context import BODY_LIMIT
from tests.e2e import conftest as e2e
from tests.helpers import wait_until
from tests.helpers.sandbox_faults import ring_long
from tests.helpers.signing import twilio_signature

faults = e2e.faults  # fixture: the sandbox's fault plan
ROOM = "Standup"
FROM = "+15005550006"


def _error(answer: requests.Response, status: int) -> dict:
    """The JSON error of an answer that must have this status."""
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    return answer.json()["error"]


def _dial(team_server, session, to: str, identity: str = "ann", room: str = ROOM):
    payload = {"to": to, "from": FROM, "room": room, "identity": identity}
    return session.post(team_server.api("/calls"), json=payload, timeout=30)


def _ring_long(sandbox_server, sandbox) -> None:
    ring_long(sandbox_server.url, (sandbox.account_sid, sandbox.auth_token))


def _actions(team_server) -> list[tuple[str, str, dict]]:
    """The audit trail, oldest first: (operator, action, detail)."""
    with team_server.database.connection() as connection:
        rows = action_log.recent(connection, team_server.account)
    return [(name, action, detail) for _, name, action, detail in reversed(rows)]


# -- 1, 2: bodies nested too deep, and text the database cannot hold ------------------------------


def test_a_deeply_nested_body_is_a_400_not_a_crash(team_server):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api("/calls"),
        data="[" * 100_000,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert "nested too deeply" in _error(answer, 400)["message"]
    assert session.get(team_server.api("/me"), timeout=10).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/history?text=%00",
        "/history?operator=%00",
        "/history.csv?text=a%00b",
        "/history/%00/statuses",
    ],
)
def test_a_nul_in_a_query_or_path_is_a_400(team_server, path):
    session = team_server.session("alice")
    error = _error(session.get(team_server.api(path), timeout=10), 400)
    assert "NUL" in error["message"]


@pytest.mark.parametrize("action", ["claim", "place", "release"])
def test_a_nul_in_a_waiting_callers_sid_is_a_400(team_server, action):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api(f"/waiting/CA%00/{action}"), json={"room": ROOM}, timeout=10
    )
    assert _error(answer, 400)["field"] == "call_sid"


@pytest.mark.parametrize("bad", ["Stand\x00up", "Stand\ud800up"])
def test_text_a_database_cannot_hold_is_refused_before_any_call(team_server, sandbox, bad):
    session = team_server.session("alice")
    answer = _dial(team_server, session, "+15551230001", room=bad)
    assert _error(answer, 400)["field"] == "room"
    assert team_server.client.calls.list() == []


def test_routes_holding_a_nul_are_refused_and_nothing_is_saved(team_server):
    session = team_server.session("alice")
    toml = '[[route]]\nnumber = "+15005550006"\nroom = "Stand\x00up"\n'
    answer = session.put(team_server.api("/routes"), json={"toml": toml, "version": 0}, timeout=10)
    assert _error(answer, 400)["field"] == "toml"
    assert session.get(team_server.api("/routes"), timeout=10).json()["version"] == 0


def test_a_value_the_database_refuses_is_a_400_in_the_team_api_only(team_server):
    """The backstop for what no check caught: PostgreSQL's own DataError, from a real query."""
    with team_server.database.connection() as connection, pytest.raises(psycopg.DataError) as bad:
        connection.execute("SELECT %s::int", ("not a number",))
    app = team_server.app
    with app.test_request_context("/team/v1/history"):
        answer = app.make_response(app.handle_user_exception(bad.value))
    assert answer.status_code == 400 and answer.json["error"]["kind"] == "invalid"
    webhook = app.test_request_context("/voice/status", method="POST")
    with webhook, pytest.raises(psycopg.DataError):  # left to be a 5xx: never a 4xx for Twilio
        try:
            raise bad.value
        except psycopg.DataError as error:
            app.handle_user_exception(error)


# -- 3, 4: unknown paths, wrong methods, bodies too large -----------------------------------------


@pytest.mark.parametrize("token", [True, False])
def test_an_unknown_path_is_a_json_404_with_or_without_a_token(team_server, token):
    session = team_server.session("alice") if token else requests.Session()
    for path in ("/nope", "/calls/CA1/nope", ""):
        error = _error(session.get(team_server.api(path), timeout=10), 404)
        assert error["kind"] == "http"


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(team_server):
    session = team_server.session("alice")
    answer = session.get(team_server.api("/calls"), timeout=10)
    assert _error(answer, 405)["kind"] == "http"
    assert "POST" in answer.headers["Allow"]


def test_the_webhook_keeps_its_own_404(team_server):
    answer = requests.get(f"{team_server.url}/nope", timeout=10)
    assert answer.status_code == 404
    assert not answer.headers["Content-Type"].startswith("application/json")


def test_a_body_over_the_limit_is_a_json_413(team_server):
    session = team_server.session("alice")
    toml = "#" * (BODY_LIMIT + 1024)
    answer = session.put(team_server.api("/routes"), json={"toml": toml, "version": 0}, timeout=10)
    assert "KiB" in _error(answer, 413)["message"]
    assert session.get(team_server.api("/routes"), timeout=10).json()["version"] == 0


# -- 5: booleans are not numbers ------------------------------------------------------------------


@pytest.mark.parametrize("limit", [True, 0, 51, "5", 2.5])
def test_max_participants_must_be_1_to_50(team_server, limit):
    session = team_server.session("alice")
    answer = session.post(
        team_server.api("/rooms"), json={"name": ROOM, "max_participants": limit}, timeout=10
    )
    assert _error(answer, 400)["field"] == "max_participants"
    assert session.get(team_server.api("/rooms"), timeout=10).json()["rooms"] == []


def test_a_room_with_a_limit_or_none_is_created(team_server):
    session = team_server.session("alice")
    for name, limit in (("Small", 2), ("Open", None)):
        answer = session.post(
            team_server.api("/rooms"), json={"name": name, "max_participants": limit}, timeout=10
        )
        assert answer.status_code == 201, answer.text


def test_a_routes_version_of_true_is_refused(team_server):
    session = team_server.session("alice")
    answer = session.put(team_server.api("/routes"), json={"toml": "", "version": True}, timeout=10)
    _error(answer, 400)
    assert session.get(team_server.api("/routes"), timeout=10).json()["version"] == 0


# -- 6: one identity per room ---------------------------------------------------------------------


def test_a_second_dial_as_a_ringing_identity_is_refused_with_a_free_variant(
    team_server, sandbox, sandbox_server
):
    _ring_long(sandbox_server, sandbox)
    alice, bob = team_server.session("alice"), team_server.session("bob")
    assert _dial(team_server, alice, "+15551230001").status_code == 201
    error = _error(_dial(team_server, bob, "+15551230002"), 409)
    assert (error["kind"], error["code"], error["suggestion"]) == ("identity_taken", 53205, "ann-2")
    assert error["message"] == (
        f"ann is already connected in {ROOM}, or being dialed into it. Dialing in a second ann "
        "would disconnect the first one (Twilio error 53205); use ann-2 instead."
    )
    assert [c.to for c in team_server.client.calls.list()] == ["+15551230001"]
    # The free variant goes through, and so does ann in another room.
    assert _dial(team_server, bob, "+15551230002", identity="ann-2").status_code == 201
    assert _dial(team_server, bob, "+15551230003", room="Other").status_code == 201


def test_a_connected_identity_is_refused_and_the_team_console_shows_why(team_server):
    alice = team_server.session("alice")
    sid = _dial(team_server, alice, "+15551230001").json()["call"]["sid"]

    def connected() -> bool:
        statuses = alice.get(team_server.api(f"/history/{sid}/statuses"), timeout=10).json()
        return "in-progress" in {s["status"] for s in statuses["statuses"]}

    wait_until(connected, timeout=10, interval=0.05)
    gateway = TeamGateway(team_server.url, team_server.token("bob"))
    try:
        with pytest.raises(TwilioError) as refused:
            gateway.dial("+15551230002", FROM, ROOM, "ann")
    finally:
        gateway.close()
    assert refused.value.status == 409
    assert str(refused.value).startswith(f"ann is already connected in {ROOM}")
    assert "use ann-2 instead" in str(refused.value)


def test_two_operators_dialing_one_identity_at_once_place_one_call(
    team_server, sandbox, sandbox_server
):
    _ring_long(sandbox_server, sandbox)
    sessions = [team_server.session(name) for name in ("alice", "bob", "carol", "dave")]
    start = threading.Barrier(len(sessions))
    answers: list[int] = []

    def dial(session: requests.Session, number: int) -> None:
        start.wait()
        answers.append(_dial(team_server, session, f"+1555123000{number}").status_code)

    threads = [threading.Thread(target=dial, args=(s, n)) for n, s in enumerate(sessions, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [201, 409, 409, 409]
    assert len(team_server.client.calls.list()) == 1


# -- 7: Twilio's errors, retries, and the audit trail ---------------------------------------------


def test_a_twilio_5xx_comes_back_with_its_code_and_a_retry_places_one_call(team_server, faults):
    session = team_server.session("alice")
    faults.set(ErrorStatus="500", ErrorShare="1", PathPrefix="/2010-04-01/Accounts")
    error = _error(_dial(team_server, session, "+15551230001"), 502)
    assert (error["kind"], error["code"], error["twilio_status"]) == ("twilio", 20500, 500)
    assert error["message"].endswith("Injected fault: HTTP 500")  # Twilio's words, as given
    faults.clear()
    assert team_server.client.calls.list() == []
    assert _dial(team_server, session, "+15551230001").status_code == 201
    # The retry is one call, and the identity is now taken: a second retry places nothing.
    assert _error(_dial(team_server, session, "+15551230001"), 409)["suggestion"] == "ann-2"
    assert len(team_server.client.calls.list()) == 1
    assert [action for _, action, _ in _actions(team_server)].count("dial") == 1


def _connected(team_server, session, identity: str, room: str = ROOM) -> tuple[str, str]:
    """Once identity is connected in room: (room SID, participant SID)."""

    def joined() -> tuple[str, str] | None:
        rooms = session.get(team_server.api("/rooms"), timeout=10).json()["rooms"]
        found = [r["sid"] for r in rooms if r["unique_name"] == room]
        if not found:
            return None
        url = team_server.api(f"/rooms/{found[0]}/participants")
        people = session.get(url, timeout=10).json()["participants"]
        sids = [p["sid"] for p in people if p["identity"] == identity]
        return (found[0], sids[0]) if sids else None

    return wait_until(joined, timeout=15, interval=0.05)


def _connected_call(team_server, session, to: str, identity: str) -> tuple[str, str, str]:
    """Dial identity into ROOM and wait until they are in it: (call, room, participant SIDs)."""
    answer = _dial(team_server, session, to, identity)
    assert answer.status_code == 201, answer.text
    return (answer.json()["call"]["sid"], *_connected(team_server, session, identity))


def _subject(detail: dict) -> str:
    """What an audited action acted on: its call, else its participant, else its room."""
    return detail.get("call_sid") or detail.get("participant_sid") or detail["room_sid"]


def test_every_action_is_audited_with_the_operator_who_took_it(team_server):
    alice, bob, carol = (team_server.session(name) for name in ("alice", "bob", "carol"))
    ann, _, _ = _connected_call(team_server, alice, "+15551230001", "ann")
    moved = bob.post(
        team_server.api(f"/calls/{ann}/move"), json={"room": "Other", "identity": "ann"}
    )
    assert moved.status_code == 200, moved.text
    other, ann_there = _connected(team_server, bob, "ann", "Other")
    path = f"/rooms/{other}/participants/{ann_there}/disconnect"
    assert carol.post(team_server.api(path), timeout=10).status_code == 200
    bea, room, _ = _connected_call(team_server, alice, "+15551230002", "bea")
    assert bob.post(team_server.api(f"/calls/{bea}/hangup"), timeout=10).status_code == 200
    assert carol.post(team_server.api(f"/rooms/{room}/end"), timeout=10).status_code == 200
    audited = [
        (
            name,
            action,
            detail.get("call_sid") or detail.get("participant_sid") or detail["room_sid"],
        )
        for name, action, detail in _actions(team_server)
        if not action.startswith("operator.")
    ]
    assert audited == [
        ("alice", "dial", ann),
        ("bob", "move", ann),
        ("carol", "participant.disconnect", ann_there),
        ("alice", "dial", bea),
        ("bob", "hangup", bea),
        ("carol", "room.end", room),
    ]


def _twilio_request_sent(team_server, path: str) -> bool:
    """Whether the server's last request to Twilio (the sandbox) is a POST to path."""
    sent = team_server.client.http_client._test_only_last_request
    return sent is not None and sent.method == "POST" and path in sent.url


@pytest.mark.slow
@pytest.mark.parametrize("action", ["hangup", "room.end", "participant.disconnect", "move", "dial"])
def test_an_action_twilio_took_is_audited_though_the_database_fails_after(
    team_server, faults, postgres, action
):
    alice = team_server.session("alice")
    call, room, participant = _connected_call(team_server, alice, "+15551230001", "ann")
    calls = f"/2010-04-01/Accounts/{team_server.account}/Calls"
    path, twilio_path, payload = {
        "hangup": (f"/calls/{call}/hangup", f"{calls}/{call}", None),
        "room.end": (f"/rooms/{room}/end", f"/v1/Rooms/{room}", None),
        "participant.disconnect": (
            f"/rooms/{room}/participants/{participant}/disconnect",
            f"/v1/Rooms/{room}/Participants/{participant}",
            None,
        ),
        "move": (f"/calls/{call}/move", f"{calls}/{call}", {"room": "Other", "identity": "ann"}),
        "dial": (
            "/calls",
            f"{calls}.json",
            {"to": "+15551230002", "from": FROM, "room": ROOM, "identity": "bea"},
        ),
    }[action]
    # Twilio holds the request a few seconds; the database stops meanwhile, and Twilio acts.
    faults.set(DelaySeconds="4", DelayShare="1", PathPrefix=twilio_path)
    answers: list[requests.Response] = []

    def act() -> None:
        answers.append(alice.post(team_server.api(path), json=payload, timeout=60))

    worker = threading.Thread(target=act)
    worker.start()
    recorder = team_server.app.extensions[PARTS_KEY].recorder
    try:
        wait_until(lambda: _twilio_request_sent(team_server, twilio_path), timeout=10)
        postgres.stop()
        worker.join(60)
        assert answers and answers[0].ok, answers and answers[0].text
        spooled = [json.loads(line) for line in recorder.spool.path.read_text().splitlines()]
        assert [r["action"] for r in spooled if r["type"] == "action"] == [action]
    finally:
        faults.clear()
        postgres.start()
    acted_on = answers[0].json()["call"]["sid"] if action == "dial" else call
    with psycopg.connect(team_server.database.url, autocommit=True) as connection:

        def audited() -> list[tuple[str, str]]:
            return connection.execute(
                "SELECT o.name, a.action FROM actions a JOIN operators o ON o.id = a.operator_id "
                "WHERE a.action = %s AND a.detail->>'call_sid' IS DISTINCT FROM %s",
                (action, call if action == "dial" else ""),
            ).fetchall()

        assert wait_until(audited, timeout=30, interval=0.2) == [("alice", action)]
        placed_by = connection.execute(
            "SELECT operator FROM calls WHERE sid = %s", (acted_on,)
        ).fetchone()
    assert placed_by == ("alice",)


def test_a_callback_the_database_refuses_is_a_5xx_for_twilio_and_blocks_nothing(
    team_server, sandbox
):
    def post(fields: dict[str, str]) -> int:
        url = f"{team_server.url}/voice/status"
        signature = twilio_signature(sandbox.auth_token, url, fields)
        headers = {"X-Twilio-Signature": signature}
        return requests.post(url, data=fields, headers=headers, timeout=20).status_code

    # Never a 4xx (Twilio would take the callback for refused): a 500, and not spooled either,
    # where it would hold up every callback behind it.
    assert post({"CallSid": "CA\x00", "CallStatus": "completed"}) == 500
    assert post({"CallSid": "CAgood", "CallStatus": "completed"}) == 204
    recorder = team_server.app.extensions[PARTS_KEY].recorder
    assert not recorder.spool.pending
    with team_server.database.connection() as connection:
        rows = connection.execute("SELECT sid FROM calls").fetchall()
    assert rows == [("CAgood",)]
