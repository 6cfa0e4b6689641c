"""The console's team mode over the real stack: team gateway, event stream client, CLI."""

from __future__ import annotations

import csv
import io
import json
import queue
import subprocess
import sys

import pytest

from console.core.calls.room_controls import records_anything
from console.core.gateways.gateway import TwilioError
from console.core.gateways.team_errors import TeamAuthError
from console.core.gateways.team_events import CONNECTED, REFUSED, TeamEvent, TeamEventStream
from console.core.gateways.team_gateway import TeamGateway
from server import event_log, operators
from server.app import close_app, create_app
from tests.helpers import wait_until
from tests.helpers.command_stack import base_env
from webhook import WebhookServer
from webhook.events import CallStatusEvent

FROM = "+15005550006"  # the sandbox account's number


def _append(team_server, count: int) -> list[int]:
    ids = []
    for number in range(count):
        with team_server.database.connection() as connection:
            ids.append(
                event_log.append(connection, team_server.account, "test.event", {"n": number})
            )
    return ids


def _collecting_stream(
    server_url: str, token: str, **options
) -> tuple[TeamEventStream, queue.Queue]:
    """A stream client putting every event it delivers (webhook or team) on a queue."""
    got: queue.Queue = queue.Queue()
    stream = TeamEventStream(
        server_url, token, got.put, on_team_event=got.put, backoff=(0.05, 0.1, 0.2), **options
    )
    return stream, got


def _take(got: queue.Queue, count: int) -> list[TeamEvent]:
    """The next count test events (presence and call events are skipped)."""
    taken = []
    while len(taken) < count:
        event = got.get(timeout=10)
        if isinstance(event, TeamEvent) and event.kind == "test.event":
            taken.append(event)
    return taken


def test_the_team_gateway_lists_creates_and_dials_into_a_room(team_server):
    gateway = TeamGateway(team_server.url, team_server.token("alice"))
    try:
        assert gateway.check_credentials() == "alice"
        assert gateway.list_rooms() == []
        room = gateway.create_room("Ops")
        assert room.sid.startswith("RM") and room.unique_name == "Ops" and room.type == "group"
        assert [r.sid for r in gateway.list_rooms()] == [room.sid]
        assert gateway.find_room("Ops") == gateway.list_rooms()[0]
        assert FROM in [number.number for number in gateway.list_numbers()]
        # The controller's own call, unchanged: room and identity travel in the outbound URL.
        url = "http://127.0.0.1:1/voice/outbound?room=Ops&identity=ann"
        call = gateway.place_call("+15551230001", FROM, url, "", ())
        assert call.sid.startswith("CA") and (call.room, call.identity) == ("Ops", "ann")
        people = wait_until(lambda: gateway.list_participants(room.sid), timeout=10)
        assert [(p.identity, p.kind, p.call_sid) for p in people] == [("ann", "phone", call.sid)]
        wait_until(lambda: gateway.fetch_call(call.sid).status == "in-progress", timeout=10)
        ((entry, who),) = gateway.search_history(text="Ops")
        assert (entry.sid, entry.identity, who) == (call.sid, "ann", "alice")
        gateway.hang_up(call.sid)
        wait_until(lambda: not gateway.list_participants(room.sid), timeout=10)
        gateway.end_room(room.sid)
        assert gateway.find_room("Ops") is None
    finally:
        gateway.close()


def test_room_controls_work_through_the_team_gateway_and_show_in_another_console(
    team_server, ops_room
):
    from console.core.calls.room_controls import RoomControls
    from server import action_log

    room, alice, bob = ops_room
    people = RoomControls(alice).set_muted(room.sid, "ann")
    assert [p.identity for p in people if p.muted] == ["ann"]
    assert RoomControls(bob).read_back(room.sid) == {"ann"}  # as Twilio holds the rules
    RoomControls(alice).set_recording(room.sid)
    assert RoomControls(bob).read_recording(room.sid) is True
    with team_server.database.connection() as connection:
        actions = {
            (name, action)
            for _, name, action, _ in action_log.recent(connection, team_server.account)
        }
    assert {("alice", "mute"), ("alice", "record")} <= actions


def test_twilio_refusals_keep_their_code_and_a_refused_token_is_typed(team_server):
    gateway = TeamGateway(team_server.url, team_server.token("alice"))
    with pytest.raises(TwilioError) as refused:
        gateway.dial("+15005550001", FROM, "Ops")  # the sandbox's invalid number
    assert refused.value.code == 21211 and not isinstance(refused.value, TeamAuthError)
    with team_server.database.connection() as connection:
        operators.revoke(connection, team_server.account, "alice")
    with pytest.raises(TeamAuthError) as revoked:
        gateway.list_rooms()
    assert isinstance(revoked.value, TwilioError) and revoked.value.status == 401
    assert "revoked" in str(revoked.value)
    with pytest.raises(TeamAuthError):
        TeamGateway(team_server.url, "sbt_wrong").check_credentials()


def test_the_stream_delivers_call_statuses_as_webhook_events(team_server):
    token = team_server.token("alice")
    stream, got = _collecting_stream(team_server.url, token)
    stream.start()
    try:
        wait_until(lambda: stream.last_event_id is not None, timeout=10)  # hello: from now on
        call = TeamGateway(team_server.url, token).dial("+15551230001", FROM, "Ops", "ann")
        statuses = []
        while "in-progress" not in statuses:
            event = got.get(timeout=10)
            if isinstance(event, CallStatusEvent):
                assert event.call_sid == call.sid and event.get("To") == "+15551230001"
                statuses.append(event.status)
        assert statuses[0] == "initiated" and len(statuses) == len(set(statuses))
        assert stream.state == CONNECTED and stream.connections == 1
    finally:
        stream.close()


def test_the_event_bridge_takes_the_streams_events_unchanged(team_server, sandbox, qtbot, tmp_path):
    from console.core.calls.history import CallHistory
    from console.event_bridge import EventBridge

    token = team_server.token("alice")
    hold = '[[route]]\nnumber = "*"\nhold = true\n'
    team_server.session("admin").put(
        team_server.api("/routes"), json={"toml": hold, "version": 0}, timeout=10
    )
    bridge = EventBridge()
    bridge.history = CallHistory(tmp_path / "history.sqlite3")
    stream = TeamEventStream(team_server.url, token, bridge.deliver)
    stream.start()
    try:
        wait_until(lambda: stream.last_event_id is not None, timeout=10)
        with qtbot.waitSignal(bridge.caller_waiting, timeout=10000) as waiting:
            caller = sandbox.incoming_call("+15557654321", FROM)
        assert (waiting.args[0].call_sid, waiting.args[0].from_) == (caller.sid, "+15557654321")
        call = TeamGateway(team_server.url, token).dial("+15551230001", FROM, "Ops", "ann")
        qtbot.waitUntil(
            lambda: "in-progress" in [s.status for s in bridge.history.statuses_of(call.sid)],
            timeout=10000,
        )
        (entry,) = bridge.history.search(text=call.sid)
        assert (entry.to, entry.from_, entry.direction) == ("+15551230001", FROM, "outbound-api")
    finally:
        stream.close()
        bridge.history.close()


def test_after_a_drop_the_stream_resumes_with_nothing_twice_and_nothing_missed(team_server):
    # A second server process on the same database, whose connections are cut by stopping it.
    app = create_app(
        {**team_server.app.config, "SPOOL_DIR": team_server.app.config["SPOOL_DIR"] + "-b"},
        gateway=team_server.app.extensions["switchboard.team"].twilio.gateway,
        database=team_server.database,
    )
    server = WebhookServer(app, threads=8)
    port = server.start()
    stream, got = _collecting_stream(server.local_url, team_server.token("alice"))
    stream.start()
    try:
        wait_until(lambda: stream.last_event_id is not None, timeout=10)
        before = _append(team_server, 3)
        assert [e.id for e in _take(got, 3)] == before
        server.stop()  # the server drops the stream
        wait_until(lambda: stream.state != CONNECTED, timeout=10)
        while_away = _append(team_server, 3)
        server = WebhookServer(app, threads=8, port=port)
        server.start()
        after = _append(team_server, 2)
        received = _take(got, 5)
        assert [e.id for e in received] == while_away + after
        assert [e.data["n"] for e in received] == [0, 1, 2, 0, 1]
        assert stream.connections >= 2 and stream.state == CONNECTED
    finally:
        stream.close()
        server.stop()
        close_app(app)


def test_a_stream_away_past_the_window_reloads_then_goes_on(team_server):
    ids = _append(team_server, 3)
    with team_server.database.connection() as connection:
        connection.execute("UPDATE event_log SET at = now() - interval '25 hours'")
        event_log.prune(connection, team_server.account)
    reloads: list[int] = []
    stream, got = _collecting_stream(
        team_server.url,
        team_server.token("alice"),
        last_event_id=ids[0],
        on_reload=lambda: reloads.append(stream.last_event_id),
    )
    stream.start()
    try:
        wait_until(lambda: reloads, timeout=10)
        later = _append(team_server, 1)
        assert [e.id for e in _take(got, 1)] == later
        assert len(reloads) == 1 and reloads[0] >= ids[-1]  # it goes on from the newest id
    finally:
        stream.close()


def test_a_revoked_token_stops_the_stream_as_refused(team_server):
    stream, _ = _collecting_stream(team_server.url, team_server.token("alice"))
    stream.start()
    try:
        wait_until(lambda: stream.state == CONNECTED, timeout=10)
        with team_server.database.connection() as connection:
            operators.revoke(connection, team_server.account, "alice")
        wait_until(lambda: stream.state == REFUSED, timeout=10)
        wait_until(lambda: not stream.running, timeout=5)  # a refused token is not retried
        assert stream.connections == 1
    finally:
        stream.close()


def test_switchboard_rooms_and_record_go_through_the_team_server(team_server, user_dirs):
    token = team_server.token("alice")
    room = TeamGateway(team_server.url, token).create_room("Ops")
    env = base_env(user_dirs) | {"SWITCHBOARD_SERVER": team_server.url, "SWITCHBOARD_TOKEN": token}
    done = subprocess.run(
        [sys.executable, "-m", "console", "rooms", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # no Twilio credentials needed
    assert [room["name"] for room in json.loads(done.stdout)] == ["Ops"]
    record = subprocess.run(
        [sys.executable, "-m", "console", "record", "--room", "Ops"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert record.returncode == 0, record.stderr
    assert record.stdout.startswith("Recording Ops")
    assert records_anything(TeamGateway(team_server.url, token).recording_rules(room.sid))
    refused = subprocess.run(
        [sys.executable, "-m", "console", "rooms"],
        capture_output=True,
        text=True,
        env=env | {"SWITCHBOARD_TOKEN": "sbt_wrong"},
        timeout=120,
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("switchboard rooms: This operator token is not valid")
    assert "sbt_wrong" not in refused.stderr
    half = subprocess.run(
        [sys.executable, "-m", "console", "rooms"],
        capture_output=True,
        text=True,
        env=env | {"SWITCHBOARD_TOKEN": ""},
        timeout=120,
    )
    assert half.returncode == 2 and "set SWITCHBOARD_TOKEN" in half.stderr


def test_switchboard_dial_and_history_go_through_the_team_server(team_server, user_dirs):
    """No Twilio credentials, no local webhook, no local history: the server does it all."""
    token = team_server.token("carol")
    env = base_env(user_dirs) | {"SWITCHBOARD_SERVER": team_server.url, "SWITCHBOARD_TOKEN": token}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    dial = run("dial", "+15551234567", "--room", "Desk", "--identity", "dora", "--wait")
    assert dial.returncode == 0, dial.stderr
    sid = dial.stdout.split(": ")[1].split()[0]
    assert f"dora joined Desk ({sid})" in dial.stdout
    assert not (user_dirs.data / "switchboard" / "history.sqlite3").exists()

    later = run("dial", "+15551230000", "--room", "Desk", "--identity", "ed")
    assert later.returncode == 0, later.stderr
    assert f"team server at {team_server.url}" in later.stdout

    history = run("history", "--csv")
    assert history.returncode == 0, history.stderr
    rows = {row["sid"]: row for row in csv.DictReader(io.StringIO(history.stdout))}
    assert rows[sid]["room"] == "Desk" and rows[sid]["identity"] == "dora"
    assert rows[sid]["operator"] == "carol"  # the team's history says who dialed
