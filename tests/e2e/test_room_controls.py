"""Room controls end to end: Subscribe and Recording Rules, room callbacks, room timeouts,
waiting for a room to start, and `switchboard mute` / `record`, against the sandbox.

The SDK's responses are validated against Twilio's OpenAPI description (tests/helpers/
openapi_check.py); the effects are read back from the sandbox (/sandbox/Rooms/{Room}/Hearing,
what a caller heard, the callbacks the real webhook accepted as signed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse

from console.core.calls.room_controls import RoomControls
from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from sandbox.core import Sandbox
from sandbox.server import SandboxServer
from tests.e2e.conftest import RunningWebhook
from tests.helpers import wait_until
from tests.helpers.command_stack import SID, TOKEN, Stack, running_stack
from tests.helpers.incoming_line import serve_incoming
from webhook import create_app, twiml
from webhook.events import CallerWaiting, RequestLogged, RoomEvent

FROM, TO = "+15005550006", "+15551234567"
ROOM_FIELDS = (
    "AccountSid",
    "RoomName",
    "RoomSid",
    "RoomStatus",
    "RoomType",
    "StatusCallbackEvent",
    "Timestamp",
    "SequenceNumber",
)
RECORDING_FIELDS = (
    "RecordingSid",
    "RecordingUri",
    "SourceSid",
    "TrackName",
    "Type",
    "Container",
    "Codec",
    "ParticipantSid",
    "ParticipantIdentity",
    "OffsetFromTwilioVideoEpoch",
)


def join(client: Client, room: str, identity: str, seconds: int = 3600):
    """A call whose answer puts the callee into room as identity (then holds the line)."""
    response, connect = VoiceResponse(), Connect()
    connect.room(room, participant_identity=identity)
    response.append(connect)
    response.pause(length=seconds)
    return client.calls.create(to=TO, from_=FROM, twiml=str(response))


def people(client: Client, room: str) -> list[str]:
    return [p.identity for p in client.video.v1.rooms(room).participants.list()]


def hearing(box: Sandbox, base_url: str, room: str) -> dict[str, list[str]]:
    """Whom each participant hears, from the sandbox's control endpoint."""
    answer = requests.get(
        f"{base_url}/sandbox/Rooms/{room}/Hearing",
        auth=(box.account_sid, box.auth_token),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return {p["identity"]: p["hears"] for p in answer.json()["participants"]}


def refused(client: Client, action) -> tuple[int, int, str]:
    with pytest.raises(Exception):  # noqa: B017 - the SDK's exception; its body is read below
        action()
    answer = client.http_client.last_response
    body = json.loads(answer.text)
    return answer.status_code, body["code"], body["message"]


def room_events(hook: RunningWebhook, kind: str = "") -> list[RoomEvent]:
    return [e for e in hook.of_kind(RoomEvent) if not kind or e.kind == kind]


@pytest.fixture
def three(client: Client) -> str:
    """Room R with alice, bob and carol connected, in that order; returns the room's SID."""
    room = client.video.v1.rooms.create(unique_name="R")
    for who in ("alice", "bob", "carol"):
        join(client, "R", who)
        wait_until(lambda w=who: w in people(client, "R"))
    return room.sid


def test_subscribe_rules_decide_who_hears_whom(
    client, sandbox, sandbox_server, three, response_log
):
    base = sandbox_server.url
    everyone = {"alice": ["bob", "carol"], "bob": ["alice", "carol"], "carol": ["alice", "bob"]}
    assert hearing(sandbox, base, "R") == everyone
    bob = client.video.v1.rooms(three).participants("bob").subscribe_rules
    default = bob.fetch()
    assert default.rules == [
        {"type": "include", "all": True, "publisher": None, "track": None, "kind": None,
         "priority": None}
    ]  # fmt: skip
    assert default.date_created is None

    posted = bob.update(
        rules=[{"type": "include", "all": True}, {"type": "exclude", "publisher": "alice"}]
    )
    assert [r["type"] for r in posted.rules] == ["include", "exclude"]
    assert posted.rules[1]["publisher"] == "alice" and posted.date_updated is not None
    assert hearing(sandbox, base, "R") == {**everyone, "bob": ["carol"]}
    # By SID works as by identity; rules apply in order: excluding then including = included.
    alice_sid = client.video.v1.rooms(three).participants("alice").fetch().sid
    carol = client.video.v1.rooms(three).participants("carol").subscribe_rules
    carol.update(
        rules=[{"type": "exclude", "publisher": alice_sid}, {"type": "include", "kind": "audio"}]
    )
    assert hearing(sandbox, base, "R")["carol"] == ["alice", "bob"]
    carol.update(
        rules={
            "rules": [
                {"type": "include", "kind": "audio"},
                {"type": "exclude", "publisher": alice_sid},
            ]
        }
    )
    assert hearing(sandbox, base, "R")["carol"] == ["bob"]
    carol.update(rules=[{"type": "exclude", "all": True}])
    assert hearing(sandbox, base, "R")["carol"] == []

    bad = [
        [],
        [{"type": "include", "all": False}],
        [{"type": "include", "all": True}, {"type": "exclude", "kind": "wideo"}],
        [{"type": "include", "all": True, "kind": "audio"}],
        [{"all": True}],
        [{"type": "include", "colour": "red"}],
        [{"type": "include", "all": True}] * 21,
        '[{"type": "include", "kind": "audio", "kind": "data"}]',
        "not json",
    ]
    for rules in bad:
        assert refused(client, lambda r=rules: bob.update(rules=r)) == (
            400, 53215, "Invalid Subscribe Rule(s)"
        )  # fmt: skip
    assert hearing(sandbox, base, "R")["bob"] == ["carol"]  # refused rules change nothing
    checked = {(m, p.rsplit("/", 1)[1]) for m, p, s in response_log.checked if s == 200}
    assert {("GET", "SubscribeRules"), ("POST", "SubscribeRules")} <= checked


def test_recording_rules_record_each_track_and_call_back(client, sandbox, webhook):
    room = client.video.v1.rooms.create(
        unique_name="Rec", status_callback=f"{webhook.url}/video/status"
    )
    rooms = client.video.v1.rooms(room.sid)
    for who in ("alice", "bob"):
        join(client, "Rec", who)
        wait_until(lambda w=who: w in people(client, "Rec"))
    assert rooms.recording_rules.fetch().rules == [] and rooms.recordings.list() == []
    data = [{"type": "include", "kind": "data"}]  # fine to subscribe to, not to record
    assert refused(client, lambda: rooms.recording_rules.update(rules=data)) == (
        400, 53120, "Invalid Recording Rule(s)"
    )  # fmt: skip

    rules = rooms.recording_rules.update(rules=[{"type": "include", "all": True}])
    assert rules.rules == [
        {"type": "include", "all": True, "publisher": None, "track": None, "kind": None}
    ]
    started = wait_until(
        lambda: (
            len(room_events(webhook, "recording-started")) == 2
            and room_events(webhook, "recording-started")
        )
    )
    assert {e.get("ParticipantIdentity") for e in started} == {"alice", "bob"}
    for event in started:
        assert all(event.get(name) for name in ROOM_FIELDS + RECORDING_FIELDS), event.fields
        assert (event.get("Type"), event.get("Container"), event.get("Codec")) == (
            "audio",
            "mka",
            "PCMU",
        )
    recordings = rooms.recordings.list()
    assert sorted(r.status for r in recordings) == ["processing", "processing"]
    assert {r.source_sid for r in recordings} == {e.get("SourceSid") for e in started}

    bob = rooms.participants("bob").fetch()
    rooms.participants("bob").update(status="disconnected")  # bob's track goes: its recording ends
    done = wait_until(lambda: room_events(webhook, "recording-completed"))
    assert [e.get("ParticipantSid") for e in done] == [bob.sid]
    assert int(done[0].get("Duration")) >= 1 and int(done[0].get("Size")) > 0
    assert done[0].get("MediaUri") == f"/v1/Recordings/{done[0].get('RecordingSid')}/Media"
    completed = rooms.recordings.list(status="completed")
    assert [r.sid for r in completed] == [done[0].get("RecordingSid")]
    assert completed[0].duration == int(done[0].get("Duration"))

    rooms.recording_rules.update(rules=[{"type": "exclude", "all": True}])
    wait_until(lambda: len(room_events(webhook, "recording-completed")) == 2)
    assert [r.status for r in rooms.recordings.list()] == ["completed", "completed"]
    rooms.recording_rules.update(rules=[{"type": "include", "publisher": "alice"}])
    latest = wait_until(
        lambda: (
            len(room_events(webhook, "recording-started")) == 3
            and rooms.recordings.list(status="processing")
        )
    )
    assert latest[0].sid not in {r.sid for r in recordings}  # a new recording, a new SID
    fetched = rooms.recordings(latest[0].sid).fetch()
    assert (fetched.status, fetched.type, fetched.grouping_sids["room_sid"]) == (
        "processing",
        "audio",
        room.sid,
    )
    assert {e.status for e in webhook.of_kind(RequestLogged)} == {204}  # every callback signed


def test_room_callbacks_carry_the_documented_parameters(client, sandbox, webhook):
    room = client.video.v1.rooms.create(
        unique_name="Cb", status_callback=f"{webhook.url}/video/status"
    )
    call = join(client, "Cb", "alice")
    wait_until(lambda: room_events(webhook, "participant-connected"))
    client.calls(call.sid).update(status="completed")
    gone = wait_until(lambda: room_events(webhook, "participant-disconnected"))
    client.video.v1.rooms(room.sid).update(status="completed")
    ended = wait_until(lambda: room_events(webhook, "room-ended"))
    events = room_events(webhook)
    assert [e.kind for e in events] == [
        "room-created", "participant-connected", "participant-disconnected", "room-ended"
    ]  # fmt: skip
    for event in events:
        assert all(event.get(name) for name in ROOM_FIELDS), event.fields
        assert (event.room_sid, event.room_name, event.get("RoomType")) == (room.sid, "Cb", "group")
    assert [e.get("SequenceNumber") for e in events] == ["0", "1", "2", "3"]
    (left,) = gone
    assert (left.participant_identity, left.get("ParticipantStatus")) == ("alice", "disconnected")
    assert left.get("ParticipantSid").startswith("PA") and left.get("ParticipantDuration").isdigit()
    assert ended[0].get("RoomStatus") == "completed" and ended[0].get("RoomDuration").isdigit()
    assert {e.status for e in webhook.of_kind(RequestLogged)} == {204}  # signed, or it were 403


def test_rooms_end_by_themselves_when_empty_past_their_timeouts(client, sandbox, webhook):
    hook = f"{webhook.url}/video/status"
    rooms = client.video.v1.rooms
    for minutes in ("0", "61", "soon"):
        assert refused(client, lambda m=minutes: rooms.create(empty_room_timeout=m))[:2] == (
            400,
            53109,
        )
        assert refused(client, lambda m=minutes: rooms.create(unused_room_timeout=m))[:2] == (
            400,
            53109,
        )
    unused = rooms.create(unique_name="Unused", status_callback=hook)  # 5 minutes by default
    empty = rooms.create(unique_name="Empty", status_callback=hook, empty_room_timeout=1)
    busy = rooms.create(unique_name="Busy", status_callback=hook, unused_room_timeout=1)
    assert (unused.empty_room_timeout, unused.unused_room_timeout) == (5, 5)
    assert (empty.empty_room_timeout, busy.unused_room_timeout) == (1, 1)
    leaving = join(client, "Empty", "alice", seconds=100_000)
    join(client, "Busy", "bob", seconds=100_000)
    wait_until(lambda: people(client, "Empty") and people(client, "Busy"))
    client.calls(leaving.sid).update(status="completed")
    wait_until(lambda: not people(client, "Empty"))

    sandbox.clock.set_speed(600)  # a simulated minute in 0.1 s: the timeouts run out
    ended = wait_until(
        lambda: len(room_events(webhook, "room-ended")) == 2 and room_events(webhook, "room-ended")
    )
    assert sorted(e.room_name for e in ended) == ["Empty", "Unused"]
    for event in ended:
        assert int(event.get("RoomDuration")) >= 60
    assert rooms(unused.sid).fetch().status == "completed"
    assert rooms(busy.sid).fetch().status == "in-progress"  # someone is in it: it stays
    assert [r.unique_name for r in rooms.list()] == ["Busy"]


DAILY, LATER = "+15005550006", "+15005550007"
WAIT_ROUTES = f"""\
[[route]]
number = "{DAILY}"
room = "DailyStandup"
wait_for_room = true

[[route]]
number = "{LATER}"
room = "NeverStarts"
wait_for_room = true
max_wait = 3

[callers]
"+14155550100" = "alice"
"""


@pytest.fixture
def waiting_line(
    sandbox: Sandbox, sandbox_server: SandboxServer, client: Client, tmp_path
) -> Iterator[RunningWebhook]:
    """`switchboard webhook` as an app alone (no console, no REST look-ups) on both numbers."""
    sandbox.clock.set_speed(10.0)
    sandbox.webhook_timeout = 150.0  # still 15 real seconds
    routes = tmp_path / "routes.toml"
    routes.write_text(WAIT_ROUTES, encoding="utf-8")
    events: list = []
    config = {"AUTH_TOKEN": sandbox.auth_token, "ROUTES_FILE": str(routes), "HOLD_PAUSE_SECONDS": 2}
    app = create_app(config, events.append)
    server = serve_incoming(app, client)
    yield RunningWebhook(server.local_url, events)
    server.stop()


def ring(box: Sandbox, base_url: str, from_: str, to: str) -> str:
    answer = requests.post(
        f"{base_url}/sandbox/IncomingCalls",
        data={"From": from_, "To": to},
        auth=(box.account_sid, box.auth_token),
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["sid"]


def heard(box: Sandbox, base_url: str, sid: str) -> list[str]:
    answer = requests.get(
        f"{base_url}/sandbox/Calls/{sid}/Heard", auth=(box.account_sid, box.auth_token), timeout=5
    )
    return [item["text"] for item in answer.json()["heard"]]


def test_a_caller_waiting_for_the_room_joins_when_it_is_created(
    client, sandbox, sandbox_server, waiting_line
):
    base = sandbox_server.url
    sid = ring(sandbox, base, "+14155550100", DAILY)
    waiting = wait_until(lambda: waiting_line.of_kind(CallerWaiting))
    assert [(w.call_sid, w.identity, w.room) for w in waiting] == [(sid, "alice", "DailyStandup")]
    wait_until(lambda: heard(sandbox, base, sid).count(twiml.HOLD_MESSAGE) >= 2, timeout=10)
    assert heard(sandbox, base, sid)[0] == twiml.WAIT_FOR_ROOM
    assert client.calls(sid).fetch().status == "in-progress"

    client.video.v1.rooms.create(unique_name="DailyStandup")  # the host starts the meeting
    assert wait_until(lambda: people(client, "DailyStandup"), timeout=10) == ["alice"]
    assert len(waiting_line.of_kind(CallerWaiting)) == 1  # announced once, on the first round

    # With the room in progress, the next caller joins at once and never waits.
    second = ring(sandbox, base, "+16505550100", DAILY)
    wait_until(lambda: len(people(client, "DailyStandup")) == 2, timeout=10)
    assert heard(sandbox, base, second) == []
    assert len(waiting_line.of_kind(CallerWaiting)) == 1
    assert not sandbox.errors


def test_a_room_that_never_starts_ends_the_wait_with_a_goodbye(
    client, sandbox, sandbox_server, waiting_line
):
    base = sandbox_server.url
    sid = ring(sandbox, base, "+16505550100", LATER)  # max_wait = 3 seconds
    wait_until(lambda: client.calls(sid).fetch().status == "completed", timeout=10)
    said = heard(sandbox, base, sid)
    assert said[0] == twiml.WAIT_FOR_ROOM and said[-1] == twiml.WAIT_GOODBYE
    assert [w.room for w in waiting_line.of_kind(CallerWaiting)] == ["NeverStarts"]
    assert not sandbox.errors


@pytest.fixture
def stack(user_dirs) -> Iterator[Stack]:
    with running_stack(user_dirs) as running:
        yield running


@pytest.mark.slow
def test_mute_and_record_from_the_command_line(stack: Stack):
    for who, number in (
        ("alice", "+15551230001"),
        ("bob", "+15551230002"),
        ("carol", "+15551230003"),
    ):
        dial = stack.run("dial", number, "--room", "R", "--identity", who, "--wait")
        assert dial.status == 0, dial.err
    box = type("Box", (), {"account_sid": SID, "auth_token": TOKEN})()

    muted = stack.run("mute", "--room", "R", "--identity", "alice")
    assert muted.status == 0, muted.err
    assert "Muted alice in R: the 2 other participant(s) no longer hear them" in muted.out
    assert hearing(box, stack.sandbox_url, "R") == {
        "alice": ["bob", "carol"],
        "bob": ["carol"],
        "carol": ["bob"],
    }
    gateway = Gateway(make_client(SID, TOKEN, base_url=stack.sandbox_url))
    room = gateway.find_room("R")
    assert RoomControls(gateway).read_back(room.sid) == {"alice"}  # a console agrees

    also = stack.run("mute", "--room", "R", "--identity", "bob")
    assert also.status == 0 and "Muted in R: alice, bob" in also.out
    back = stack.run("mute", "--room", "R", "--identity", "alice", "--unmute")
    assert back.status == 0 and "Unmuted alice in R" in back.out
    assert hearing(box, stack.sandbox_url, "R") == {
        "alice": ["carol"],
        "bob": ["alice", "carol"],
        "carol": ["alice"],
    }

    assert stack.run("mute", "--room", "R", "--identity", "nobody").error_line.endswith(
        "nobody is not connected in this room"
    )
    for args, status in [
        (("mute", "--room", "Nowhere", "--identity", "alice"), 1),
        (("mute", "--room", "R", "--identity", "\u202ealice"), 2),
        (("mute", "--room", "", "--identity", "alice"), 2),
        (("mute", "--room", "R"), 2),
        (("record", "--room", "Nowhere"), 1),
    ]:
        failed = stack.run(*args)
        assert failed.status == status, (args, failed.err)
        assert failed.error_line.startswith(f"switchboard {args[0]}: ")

    recording = stack.run("record", "--room", "R")
    assert recording.status == 0, recording.err
    assert "Recording R: 3 track(s) now" in recording.out
    stopped = stack.run("record", "--room", "R", "--stop")
    assert stopped.status == 0 and "Stopped recording R: 3 recording(s) in all" in stopped.out
    recordings = gateway.list_recordings(room.sid)
    assert sorted(r.status for r in recordings) == ["completed"] * 3
