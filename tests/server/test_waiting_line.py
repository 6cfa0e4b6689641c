"""The waiting line over the sandbox: a caller on hold, a claim race, placing, timeouts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader

HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'
CALLER, NUMBER = "+15557654321", "+15005550006"


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


def test_a_claim_is_released_when_its_operator_is_gone_for_30_seconds(team_server, held_caller):
    call_sid, stream, _ = held_caller
    bob = team_server.session("bob")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    with team_server.database.connection() as connection:
        connection.execute("UPDATE waiting SET claimed_at = now() - interval '31 seconds'")
    released = stream.next_of("waiting.released", timeout=10)  # the housekeeping thread
    assert released.data["data"] == {"call_sid": call_sid, "operator": "bob", "reason": "timeout"}
    waiting = bob.get(team_server.api("/waiting"), timeout=10).json()["waiting"]
    assert [(w["call_sid"], w["claimed_by"]) for w in waiting] == [(call_sid, "")]


def test_a_release_gives_the_caller_back(team_server, held_caller):
    call_sid, _, _ = held_caller
    bob, carol = team_server.session("bob"), team_server.session("carol")
    assert bob.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok
    assert (
        carol.post(team_server.api(f"/waiting/{call_sid}/release"), timeout=10).status_code == 409
    )
    assert bob.post(team_server.api(f"/waiting/{call_sid}/release"), timeout=10).ok
    assert carol.post(team_server.api(f"/waiting/{call_sid}/claim"), timeout=10).ok


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
