"""The team gateway's waiting line, routes and presence, and `waiting`, `claim` and `routes`."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from console.commands import cli
from console.core.gateways.team_events import CONNECTED, TeamEventStream
from console.core.gateways.team_gateway import TeamGateway
from console.core.gateways.team_records import (
    ClaimedByOther,
    TeamRoutes,
    TeamRoutesChanged,
    TeamRoutesInvalid,
)
from tests.helpers import wait_until
from tests.helpers.command_stack import Finished, base_env

HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'
GOOD = '# the front desk\n[[route]]\nnumber = "+15005550006"\nroom = "Standup"\n'
BAD = '[[route]]\nnumber = "+15005550006"\nrom = "X"\n'  # line 3: an unknown key
CALLER, NUMBER = "+15557654321", "+15005550006"


def _hold_a_caller(team_server, sandbox) -> str:
    """A caller on the team's waiting line (every call is held); their call SID."""
    TeamGateway(team_server.url, team_server.token("admin")).replace_routes(HOLD_ALL, 0)
    call = sandbox.incoming_call(CALLER, NUMBER)
    watcher = TeamGateway(team_server.url, team_server.token("watcher"))
    wait_until(lambda: [c.call_sid for c in watcher.waiting()] == [call.sid], timeout=10)
    return call.sid


def _room_of(sandbox, call_sid: str) -> str:
    """The room the sandbox has this call connected in ('' when none)."""
    person = sandbox.state.participant_of_call(call_sid)
    return sandbox.state.find_room(person.room_sid).unique_name if person else ""


def _run(team_server, user_dirs, token: str, *args: str) -> Finished:
    env = base_env(user_dirs) | {"SWITCHBOARD_SERVER": team_server.url, "SWITCHBOARD_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def test_two_operators_claim_one_caller_one_wins_and_places_them(team_server, sandbox):
    call_sid = _hold_a_caller(team_server, sandbox)
    alice = TeamGateway(team_server.url, team_server.token("alice"))
    bob = TeamGateway(team_server.url, team_server.token("bob"))
    (waiting,) = alice.waiting()
    assert (waiting.from_, waiting.to, waiting.state, waiting.claimed_by) == (
        CALLER,
        NUMBER,
        "waiting",
        "",
    )
    assert waiting.since.tzinfo is not None and waiting.claimed_at is None

    def claim(gateway: TeamGateway) -> tuple[str, object]:
        try:
            return "won", gateway.claim(call_sid)
        except ClaimedByOther as error:
            return "lost", error

    with ThreadPoolExecutor(2) as pool:
        results = dict(zip((alice, bob), pool.map(claim, (alice, bob)), strict=True))
    assert sorted(outcome for outcome, _ in results.values()) == ["lost", "won"]
    winner = next(g for g, (outcome, _) in results.items() if outcome == "won")
    loser = bob if winner is alice else alice
    name = {alice: "alice", bob: "bob"}
    refused = results[loser][1]
    assert refused.holder == name[winner] and refused.status == 409
    assert str(refused) == f"{name[winner]} is already handling this caller."
    (held,) = loser.waiting()
    assert held.claimed_by == name[winner] and held.claimed_at is not None

    with pytest.raises(ClaimedByOther):  # the loser cannot place the caller either
        loser.place_waiting(call_sid, "Elsewhere")
    winner.release(call_sid)  # given back: now the other may take them, in one action
    assert loser.place_waiting(call_sid, "Support") == ("Support", "phone-4321")
    wait_until(lambda: _room_of(sandbox, call_sid) == "Support", timeout=10)
    assert alice.waiting() == []


def test_routes_round_trip_refuse_a_stale_version_and_say_where_they_are_bad(team_server):
    alice = TeamGateway(team_server.url, team_server.token("alice"))
    bob = TeamGateway(team_server.url, team_server.token("bob"))
    assert alice.routes() == TeamRoutes(0, "")
    assert alice.replace_routes(GOOD, 0) == TeamRoutes(1, GOOD)
    assert bob.routes() == TeamRoutes(1, GOOD)
    with pytest.raises(TeamRoutesChanged) as stale:  # bob started from version 0 too
        bob.replace_routes(HOLD_ALL, 0)
    assert stale.value.current == TeamRoutes(1, GOOD) and stale.value.status == 409
    with pytest.raises(TeamRoutesInvalid) as bad:
        bob.replace_routes(BAD, 1)
    assert (bad.value.line, bad.value.key, bad.value.status) == (3, "rom", 422)
    assert bad.value.problem and "line 3" in str(bad.value)
    assert alice.routes() == TeamRoutes(1, GOOD)  # nothing was overwritten


def test_presence_lists_the_operators_with_an_open_stream(team_server):
    token = team_server.token("alice")
    gateway = TeamGateway(team_server.url, token)
    stream = TeamEventStream(team_server.url, token, lambda event: None)
    stream.start()
    try:
        wait_until(lambda: stream.state == CONNECTED, timeout=10)
        (alice,) = wait_until(gateway.presence, timeout=10)
        assert alice.name == "alice" and alice.activity  # "online" today, "idle" with activities
    finally:
        stream.close()


def test_waiting_and_claim_from_the_command_line(team_server, sandbox, user_dirs):
    call_sid = _hold_a_caller(team_server, sandbox)
    bob = TeamGateway(team_server.url, team_server.token("bob"))
    bob.claim(call_sid)
    alice = team_server.token("alice")

    listed = _run(team_server, user_dirs, alice, "waiting", "--json")
    assert listed.status == 0, listed.err
    (caller,) = json.loads(listed.out)
    assert (caller["call_sid"], caller["from"], caller["claimed_by"]) == (call_sid, CALLER, "bob")

    table = _run(team_server, user_dirs, alice, "waiting")
    assert table.status == 0, table.err
    header, row = table.out.splitlines()
    assert header.split() == ["CALL", "SID", "FROM", "TO", "WAITING", "HANDLED", "BY"]
    assert row.split()[:3] == [call_sid, CALLER, NUMBER] and row.endswith("  bob")

    held = _run(team_server, user_dirs, alice, "claim", call_sid, "--room", "Desk")
    assert held.status == 3 and held.out == ""
    assert held.error_line.startswith("switchboard claim: bob is already handling this caller.")

    bob.release(call_sid)
    won = _run(team_server, user_dirs, alice, "claim", call_sid, "--room", "Desk")
    assert won.status == 0, won.err
    assert won.out == f"Claimed {call_sid}: joining Desk as phone-4321\n"
    wait_until(lambda: _room_of(sandbox, call_sid) == "Desk", timeout=10)


def test_routes_show_and_import_from_the_command_line(team_server, user_dirs, tmp_path):
    token = team_server.token("alice")
    good, bad = tmp_path / "routes.toml", tmp_path / "bad.toml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")

    imported = _run(team_server, user_dirs, token, "routes", "import", str(good))
    assert imported.status == 0, imported.err
    assert imported.out == f"The team's routes are now version 1, from {good}.\n"
    shown = _run(team_server, user_dirs, token, "routes", "show")
    assert (shown.status, shown.out) == (0, GOOD)  # the text as imported, comments and all
    assert "version 1" in shown.error_line

    refused = _run(team_server, user_dirs, token, "routes", "import", str(bad))
    assert refused.status == 1 and refused.out == ""
    where = f'switchboard routes: not imported: {bad}, line 3, key "rom": '
    assert refused.error_line.startswith(where)

    TeamGateway(team_server.url, token).replace_routes(HOLD_ALL, 1)  # another operator saves
    stale = _run(team_server, user_dirs, token, "routes", "import", str(good), "--if-version", "1")
    assert stale.status == 1
    assert "another operator changed the team's routes (now version 2" in stale.error_line
    assert TeamGateway(team_server.url, token).routes() == TeamRoutes(2, HOLD_ALL)


def test_the_team_commands_say_they_need_a_team(capsys):
    assert cli.main(["waiting"]) == 2
    assert capsys.readouterr().err == (
        "switchboard waiting: this command needs a team server: set SWITCHBOARD_SERVER and "
        "SWITCHBOARD_TOKEN (or Settings ▸ Team)\n"
    )
