"""The waiting line over the sandbox: a caller on hold, a claim race, placing, timeouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from server import action_log, waiting_line
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader
from tests.helpers.sandbox_faults import Faults

HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'
CALLER, NUMBER = "+15557654321", "+15005550006"


def _audited(team_server, call_sid: str) -> list[tuple[str, str]]:
    """The audit trail's (operator, action) about one caller, oldest first."""
    with team_server.database.connection() as connection:
        rows = action_log.recent(connection, team_server.account)
    return [
        (name, action)
        for _, name, action, detail in reversed(rows)
        if detail.get("call_sid") == call_sid
    ]


@pytest.fixture
def held_caller(team_server, sandbox):
    """A caller on hold, seen arriving on alice's stream; (call_sid, alice's stream, token)."""
    token = team_server.token("alice")
    answer = team_server.session("admin").put(
        team_server.api("/routes"), json={"toml": HOLD_ALL, "version": 0}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    stream = EventStreamReader(team_server.api("/events"), token)
    stream.next_of("hello")
    call = sandbox.incoming_call(CALLER, NUMBER)
    added = stream.next_of("waiting.added")
    assert added.data["data"]["call_sid"] == call.sid
    yield call.sid, stream, token
    stream.close()


def test_twenty_operators_race_for_a_caller_and_exactly_one_wins(team_server, held_caller):
    call_sid, stream, _ = held_caller
    sessions = [team_server.session(f"op{n}") for n in range(20)]

    def claim(session):
        return session.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(claim, sessions))
    winners = [a for a in answers if a.status_code == 200]
    losers = [a for a in answers if a.status_code != 200]
    assert len(winners) == 1
    holder = winners[0].json()["waiting"]["claimed_by"]
    assert {a.status_code for a in losers} == {409}
    assert {a.json()["error"]["holder"] for a in losers} == {holder}
    assert all(holder in a.json()["error"]["message"] for a in losers)
    assert stream.next_of("waiting.claimed").data["data"]["operator"] == holder


def test_the_winner_puts_the_caller_in_a_room_and_history_says_who(team_server, held_caller):
    call_sid, stream, _ = held_caller
    bob = team_server.session("bob")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    other = team_server.session("carol")
    refused = other.post(team_server.api(f"/waiting/{call_sid}/place"), json={"room": "X"})
    assert refused.status_code == 409 and refused.json()["error"]["holder"] == "bob"
    placed = bob.post(
        team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Support"}, timeout=10
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["identity"] == "phone-4321"
    assert stream.next_of("waiting.placed").data["data"]["operator"] == "bob"
    assert bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"] == []
    rooms = bob.get(team_server.api("/rooms"), timeout=10).json()["rooms"]
    room = next(r for r in rooms if r["unique_name"] == "Support")

    def joined():
        url = team_server.api(f"/rooms/{room['sid']}/participants?name=Support")
        people = bob.get(url, timeout=10).json()["participants"]
        return [(p["identity"], p["call_sid"], p["kind"]) for p in people]

    wait_until(lambda: joined() == [("phone-4321", call_sid, "phone")], timeout=10)
    history = bob.get(team_server.api(f"/history?text={call_sid}"), timeout=10).json()["calls"]
    assert [(c["room"], c["operator"], c["direction"]) for c in history] == [
        ("Support", "bob", "inbound")
    ]
    assert _audited(team_server, call_sid) == [("bob", "claim"), ("bob", "place")]


def test_a_claim_is_released_when_its_operator_is_gone_for_30_seconds(team_server, held_caller):
    call_sid, stream, _ = held_caller
    bob = team_server.session("bob")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    _away(team_server, "bob", claimed=31, seen=36)  # no stream, no request since
    released = stream.next_of("waiting.released", timeout=10)  # the housekeeping thread
    assert released.data["data"] == {"call_sid": call_sid, "operator": "bob", "reason": "timeout"}
    waiting = bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"]
    assert [(w["call_sid"], w["claimed_by"]) for w in waiting] == [(call_sid, "")]


def _away(team_server, name: str, claimed: float, seen: float) -> None:
    """As if name claimed `claimed` seconds ago and was last heard from `seen` seconds ago."""
    with team_server.database.connection() as connection:
        connection.execute(
            "UPDATE waiting SET claimed_at = now() - make_interval(secs => %s)", (claimed,)
        )
        connection.execute(
            "UPDATE operators SET last_seen = now() - make_interval(secs => %s) WHERE name = %s",
            (seen, name),
        )


def _sweep(team_server) -> list[str]:
    """One round of the claim timeout, as the housekeeping thread runs it."""
    with team_server.database.connection() as connection:
        return waiting_line.release_stale(connection, team_server.account)


def _holder(team_server, call_sid: str) -> str:
    with team_server.database.connection() as connection:
        caller = waiting_line.one(connection, team_server.account, call_sid)
    assert caller is not None
    return caller.claimed_by


def _streams_of(team_server, name: str) -> int:
    with team_server.database.connection() as connection:
        row = connection.execute(
            "SELECT count(*) FROM presence p JOIN operators o ON o.id = p.operator_id "
            "WHERE o.name = %s",
            (name,),
        ).fetchone()
    return row[0]


def _operator(team_server, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _connected(team_server, token: str) -> EventStreamReader:
    """An open event stream for this token, past its hello."""
    stream = EventStreamReader(team_server.api("/events"), token)
    stream.next_of("hello")
    return stream


def _bob_connected_and_claiming(team_server, call_sid: str) -> tuple[str, EventStreamReader]:
    """bob, with a stream open, claims the caller; (his token, his stream)."""
    token = team_server.token("bob")
    stream = _connected(team_server, token)
    assert _operator(team_server, token).post(team_server.api(f"/waiting/{call_sid}/claim")).ok
    return token, stream


def test_a_connected_operator_keeps_a_claim_past_30_seconds(team_server, held_caller):
    call_sid, _, _ = held_caller
    _token, bob_stream = _bob_connected_and_claiming(team_server, call_sid)
    _away(team_server, "bob", claimed=60, seen=60)  # a minute without a request: stream open
    assert _sweep(team_server) == []
    assert _holder(team_server, call_sid) == "bob"
    bob_stream.close()


def test_a_short_disconnect_and_reconnect_keeps_the_claim(team_server, held_caller):
    call_sid, stream, _ = held_caller
    token, bob_stream = _bob_connected_and_claiming(team_server, call_sid)
    _away(team_server, "bob", claimed=60, seen=60)
    bob_stream.close()  # a network blip
    assert stream.next_of("operator.offline").data["data"]["operator"] == "bob"
    assert _streams_of(team_server, "bob") == 0
    assert _sweep(team_server) == []  # connected until the stream closed, a moment ago
    _away(team_server, "bob", claimed=80, seen=20)  # 20 s away
    assert _sweep(team_server) == []
    bob_stream = _connected(team_server, token)
    _away(team_server, "bob", claimed=120, seen=60)  # back, and a minute on
    assert _sweep(team_server) == []
    assert _holder(team_server, call_sid) == "bob"
    bob_stream.close()


def test_a_disconnect_longer_than_30_seconds_releases_the_claim(team_server, held_caller):
    call_sid, stream, _ = held_caller
    _token, bob_stream = _bob_connected_and_claiming(team_server, call_sid)
    bob_stream.close()
    assert stream.next_of("operator.offline").data["data"]["operator"] == "bob"
    _away(team_server, "bob", claimed=60, seen=25)
    assert _sweep(team_server) == []  # 25 s: not yet
    _away(team_server, "bob", claimed=60, seen=36)  # past 30 s (and the 5 s a request may lag)
    released = stream.next_of("waiting.released", timeout=10)  # the housekeeping thread
    assert released.data["data"] == {"call_sid": call_sid, "operator": "bob", "reason": "timeout"}
    assert _holder(team_server, call_sid) == ""


def test_an_api_only_operator_who_keeps_calling_keeps_the_claim(team_server, held_caller):
    call_sid, _, _ = held_caller
    bob = team_server.session("bob")  # never opens a stream
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    for claimed in (25, 50, 75, 100):  # a request every 25 s, for 100 s
        _away(team_server, "bob", claimed=claimed, seen=25)
        waiting = bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"]
        assert [(w["call_sid"], w["claimed_by"]) for w in waiting] == [(call_sid, "bob")]
        with team_server.database.connection() as connection:
            seen = connection.execute(
                "SELECT now() - last_seen < interval '5 seconds' FROM operators WHERE name = 'bob'"
            ).fetchone()[0]
        assert seen  # the request counted as a sign of life
    assert _sweep(team_server) == []
    assert _holder(team_server, call_sid) == "bob"


def test_a_release_gives_the_caller_back(team_server, held_caller):
    call_sid, _, _ = held_caller
    bob, carol = team_server.session("bob"), team_server.session("carol")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    assert (
        carol.post(team_server.api(f"/waiting/{call_sid}/release"), timeout=10).status_code == 409
    )
    assert bob.post(team_server.api(f"/waiting/{call_sid}/release"), timeout=10).ok
    assert carol.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    assert _audited(team_server, call_sid) == [
        ("bob", "claim"),
        ("bob", "release"),
        ("carol", "claim"),
    ]


def test_a_caller_who_hangs_up_leaves_the_line(team_server, held_caller, sandbox):
    call_sid, stream, _ = held_caller
    sandbox.caller_hangs_up(sandbox.find_call(call_sid))
    status = stream.next_of("call.status")
    while not status.data["data"]["left_waiting"]:
        status = stream.next_of("call.status")
    assert status.data["data"]["sid"] == call_sid
    session = team_server.session("bob")
    assert session.get(team_server.api("/waiting"), timeout=10).json()["waiting"] == []
    gone = session.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10)
    assert gone.status_code == 404


@pytest.fixture
def slow_twilio(sandbox, sandbox_server):
    """The sandbox's fault plan: a request to a chosen path waits or fails (cleared after)."""
    plan = Faults(sandbox_server.url, (sandbox.account_sid, sandbox.auth_token))
    yield plan
    plan.clear()


def _calls_path(sandbox, call_sid: str) -> str:
    return f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls/{call_sid}"


def test_nobody_can_claim_or_place_a_caller_while_their_placement_is_under_way(
    team_server, held_caller, sandbox, slow_twilio
):
    """The claim ran out while Twilio redirected bob's caller: the sweep may not free it for
    carol, who would put the same caller in a second room."""
    call_sid, stream, _ = held_caller
    bob, carol = team_server.session("bob"), team_server.session("carol")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    slow_twilio.set(DelaySeconds=3, DelayShare=1, PathPrefix=_calls_path(sandbox, call_sid))
    with ThreadPoolExecutor(1) as pool:
        placing = pool.submit(
            bob.post, team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Support"}
        )
        wait_until(lambda: _state(team_server, call_sid) == "placed", timeout=10)
        _away(team_server, "bob", claimed=60, seen=60)
        assert _sweep(team_server) == []
        claim = carol.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10)
        place = carol.post(
            team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Sales"}, timeout=10
        )
        assert (claim.status_code, place.status_code) == (404, 409)
        assert place.json()["error"]["holder"] == "bob"
        assert placing.result(timeout=20).status_code == 200
    placed = stream.next_of("waiting.placed").data["data"]
    assert (placed["operator"], placed["room"]) == ("bob", "Support")
    with team_server.database.connection() as connection:
        places = connection.execute(
            "SELECT count(*) FROM actions WHERE action = 'place' AND detail->>'call_sid' = %s",
            (call_sid,),
        ).fetchone()[0]
    assert places == 1


def test_a_placement_twilio_refuses_leaves_the_caller_waiting_and_claimed(
    team_server, held_caller, sandbox, slow_twilio
):
    call_sid, _, _ = held_caller
    bob = team_server.session("bob")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    slow_twilio.set(ErrorShare=1, ErrorStatus=500, PathPrefix=_calls_path(sandbox, call_sid))
    refused = bob.post(
        team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Support"}, timeout=30
    )
    assert refused.status_code == 502 and refused.json()["error"]["kind"] == "twilio"
    waiting = bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"]
    assert [(w["call_sid"], w["claimed_by"], w["room"]) for w in waiting] == [(call_sid, "bob", "")]


def test_operators_racing_to_place_one_caller_place_them_once(team_server, held_caller):
    call_sid, _, _ = held_caller
    sessions = [team_server.session(f"op{n}") for n in range(8)]

    def place(session):
        url = team_server.api(f"/waiting/{call_sid}/place")
        return session.post(url, json={"room": "Support"}, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(place, sessions))
    assert sorted(a.status_code for a in answers)[0] == 200
    assert [a.status_code for a in answers].count(200) == 1
    assert {a.status_code for a in answers} <= {200, 404, 409}


def _state(team_server, call_sid: str) -> str:
    with team_server.database.connection() as connection:
        caller = waiting_line.one(connection, team_server.account, call_sid)
    return caller.state if caller else ""


def test_a_placement_twilio_may_have_carried_out_is_never_undone_for_a_second_one(
    team_server, held_caller, sandbox, slow_twilio
):
    call_sid, stream, _ = held_caller
    bob, carol = team_server.session("bob"), team_server.session("carol")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    # A 502 from Twilio: the redirect may have gone through.
    slow_twilio.set(ErrorShare=1, ErrorStatus=502, PathPrefix=_calls_path(sandbox, call_sid))
    unsure = bob.post(
        team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Support"}, timeout=30
    )
    assert unsure.status_code == 502, unsure.text
    message = unsure.json()["error"]["message"]
    assert message.startswith("Twilio did not confirm putting the caller in Support")
    assert "check the room" in message
    # Taken as placed: off the line for everyone, so nobody moves them a second time.
    assert stream.next_of("waiting.placed").data["data"]["operator"] == "bob"
    assert bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"] == []
    slow_twilio.clear()
    again = carol.post(
        team_server.api(f"/waiting/{call_sid}/place"), json={"room": "Other"}, timeout=30
    )
    assert again.status_code == 409, again.text
    assert _audited(team_server, call_sid) == [("bob", "claim"), ("bob", "place")]
