"""Mutes made through the team server stay applied for whoever joins the room later."""

from __future__ import annotations

import requests

from console.core.calls.room_controls import INCLUDE_ALL, RoomControls
from console.core.gateways.team_gateway import TeamGateway
from server import mutes
from tests.helpers import wait_until

FROM = "+15005550006"


def _hearing(sandbox, sandbox_server, room_sid: str) -> dict[str, list[str]]:
    """Whom each participant hears, from the sandbox's control endpoint."""
    answer = requests.get(
        f"{sandbox_server.url}/sandbox/Rooms/{room_sid}/Hearing",
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return {p["identity"]: p["hears"] for p in answer.json()["participants"]}


def _stored(team_server, room_sid: str) -> frozenset[str]:
    with team_server.database.connection() as connection:
        return mutes.of_room(connection, team_server.account, room_sid)


def test_a_later_joiner_does_not_hear_the_muted_and_does_hear_them_once_unmuted(
    team_server, sandbox, sandbox_server
):
    alice = TeamGateway(team_server.url, team_server.token("alice"))
    try:
        room = alice.create_room("Ops")
        for number, identity in (("+15551230001", "ann"), ("+15551230002", "ben")):
            alice.dial(number, FROM, "Ops", identity)
        wait_until(lambda: len(alice.list_participants(room.sid)) == 2, timeout=10)
        RoomControls(alice).set_muted(room.sid, "ann")  # as the console mutes: rules for ben
        assert _stored(team_server, room.sid) == {"ann"}
        assert _hearing(sandbox, sandbox_server, room.sid)["ben"] == []

        # carl joins later; no console is watching: the server gives him the room's rules
        alice.dial("+15551230003", FROM, "Ops", "carl")
        heard = wait_until(
            lambda: (h := _hearing(sandbox, sandbox_server, room.sid)).get("carl") == ["ben"] and h,
            timeout=10,
        )
        assert "ann" not in heard["carl"] and heard["ann"] == ["ben", "carl"]

        RoomControls(alice).set_muted(room.sid, "ann", muted=False)
        assert _stored(team_server, room.sid) == frozenset()
        alice.dial("+15551230004", FROM, "Ops", "dora")
        wait_until(
            lambda: (
                _hearing(sandbox, sandbox_server, room.sid).get("dora") == ["ann", "ben", "carl"]
            ),
            timeout=10,
        )
        alice.end_room(room.sid)
    finally:
        alice.close()


def test_the_room_mutes_follow_each_posted_rule_and_end_with_the_room(team_server):
    account, room = team_server.account, "RM" + "1" * 32
    rules = {
        "ann muted, told to ben": [INCLUDE_ALL, {"type": "exclude", "publisher": "ann"}],
        "ann and ben muted, told to ann": [INCLUDE_ALL, {"type": "exclude", "publisher": "ben"}],
    }
    with team_server.database.connection() as connection:
        after = mutes.learn(connection, account, room, "ben", rules["ann muted, told to ben"], None)
        assert after == {"ann"}
        # ann's rules never exclude ann herself: she stays muted, ben is muted now too
        after = mutes.learn(
            connection, account, room, "ann", rules["ann and ben muted, told to ann"], None
        )
        assert after == {"ann", "ben"}
        # rules of another shape (a subscriber hearing only one publisher) change nothing
        other = [{"type": "include", "publisher": "ann"}]
        assert mutes.learn(connection, account, room, "carl", other, None) is None
        assert mutes.of_room(connection, account, room) == {"ann", "ben"}
        # unmuting ann while ben stays muted: ben's rules leave nobody out, ben stays muted
        assert mutes.learn(connection, account, room, "ben", [INCLUDE_ALL], None) == {"ben"}
        mutes.forget_room(connection, account, room)
        assert mutes.of_room(connection, account, room) == frozenset()
