"""The dial-in loop over real HTTP: the twilio SDK, the sandbox, and Switchboard's webhook."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.helpers import wait_until
from webhook.events import CallStatusEvent, RequestLogged, RoomEvent

FROM = "+15005550006"
TO = "+15551234567"
EVENTS = ["initiated", "ringing", "answered", "completed"]


def dial(client, webhook, room: str, identity: str | None, to: str = TO, **kwargs):
    """Place a call whose answer joins room as identity, with every progress callback."""
    query = f"room={room}" + (f"&identity={identity}" if identity is not None else "")
    return client.calls.create(
        to=to,
        from_=FROM,
        url=f"{webhook.url}/voice/outbound?{query}",
        status_callback=f"{webhook.url}/voice/status",
        status_callback_event=EVENTS,
        **kwargs,
    )


def connected(client, room: str) -> list:
    return client.video.v1.rooms(room).participants.list(status="connected")


def call_status(client, sid: str) -> str:
    return client.calls(sid).fetch().status


def make_room(client, webhook, name: str = "DailyStandup", **kwargs):
    return client.video.v1.rooms.create(
        unique_name=name, type="group", status_callback=f"{webhook.url}/video/status", **kwargs
    )


def test_dial_in_loop_puts_alice_in_the_room(client, webhook, sandbox, response_log):
    room = make_room(client, webhook)
    call = dial(client, webhook, "DailyStandup", "alice")
    assert call.status == "queued" and call.direction == "outbound-api"
    people = wait_until(lambda: connected(client, "DailyStandup"))
    assert [(p.identity, p.status, p.room_sid) for p in people] == [
        ("alice", "connected", room.sid)
    ]
    assert client.video.v1.rooms(room.sid).participants("alice").fetch().sid == people[0].sid
    assert call_status(client, call.sid) == "in-progress"
    statuses = wait_until(lambda: [e.status for e in webhook.of_kind(CallStatusEvent)][:3] or None)
    wait_until(lambda: len(webhook.of_kind(CallStatusEvent)) >= 3)
    assert [e.status for e in webhook.of_kind(CallStatusEvent)] == [
        "initiated",
        "ringing",
        "in-progress",
    ], statuses
    assert [e.sequence_number for e in webhook.of_kind(CallStatusEvent)] == [0, 1, 2]
    first = webhook.of_kind(CallStatusEvent)[0]
    for name in ("AccountSid", "From", "To", "Direction", "ApiVersion", "CallbackSource"):
        assert first.get(name), name
    wait_until(lambda: len(webhook.of_kind(RoomEvent)) >= 2)
    kinds = [(e.kind, e.participant_identity) for e in webhook.of_kind(RoomEvent)]
    assert kinds == [("room-created", ""), ("participant-connected", "alice")]
    # Every request reached the webhook signed: it would have answered 403 otherwise.
    assert {e.status for e in webhook.of_kind(RequestLogged)} <= {200, 204}
    assert not sandbox.errors
    assert len(response_log.checked) >= 4


def test_duplicate_identity_disconnects_the_earlier_participant(client, webhook, sandbox):
    make_room(client, webhook)
    first = dial(client, webhook, "DailyStandup", "alice")
    earlier = wait_until(lambda: connected(client, "DailyStandup"))[0]
    second = dial(client, webhook, "DailyStandup", "alice")
    wait_until(lambda: call_status(client, first.sid) == "completed")
    later = wait_until(
        lambda: [p for p in connected(client, "DailyStandup") if p.sid != earlier.sid]
    )
    assert [p.identity for p in connected(client, "DailyStandup")] == ["alice"]
    assert later[0].identity == "alice"
    gone = client.video.v1.rooms("DailyStandup").participants(earlier.sid).fetch()
    assert gone.status == "disconnected" and gone.end_time is not None
    assert [e.code for e in sandbox.errors_of(first.sid)] == [53205]
    assert call_status(client, second.sid) == "in-progress"


def test_a_call_without_identity_gets_a_random_one(client, webhook):
    make_room(client, webhook)
    dial(client, webhook, "DailyStandup", None)
    dial(client, webhook, "DailyStandup", None)
    people = wait_until(
        lambda: len(connected(client, "DailyStandup")) == 2 and connected(client, "DailyStandup")
    )
    identities = {p.identity for p in people}
    assert len(identities) == 2 and all(len(i) >= 16 for i in identities)


def test_hanging_up_removes_the_participant(client, webhook):
    make_room(client, webhook)
    call = dial(client, webhook, "DailyStandup", "bob")
    wait_until(lambda: connected(client, "DailyStandup"))
    ended = client.calls(call.sid).update(status="completed")
    assert ended.sid == call.sid
    wait_until(lambda: call_status(client, call.sid) == "completed")
    assert connected(client, "DailyStandup") == []
    bob = client.video.v1.rooms("DailyStandup").participants("bob").fetch()
    assert bob.status == "disconnected"
    finished = client.calls(call.sid).fetch()
    assert finished.end_time is not None and finished.duration is not None
    wait_until(lambda: any(e.status == "completed" for e in webhook.of_kind(CallStatusEvent)))
    done = next(e for e in webhook.of_kind(CallStatusEvent) if e.status == "completed")
    assert done.get("CallDuration") != ""


def test_disconnecting_the_participant_ends_the_call(client, webhook):
    make_room(client, webhook)
    call = dial(client, webhook, "DailyStandup", "carol")
    wait_until(lambda: connected(client, "DailyStandup"))
    carol = (
        client.video.v1.rooms("DailyStandup").participants("carol").update(status="disconnected")
    )
    assert carol.status == "disconnected"
    wait_until(lambda: call_status(client, call.sid) == "completed")


def test_ending_the_room_disconnects_everyone_and_ends_their_calls(client, webhook):
    room = make_room(client, webhook)
    calls = [dial(client, webhook, "DailyStandup", name) for name in ("a", "b", "c")]
    wait_until(lambda: len(connected(client, "DailyStandup")) == 3)
    ended = client.video.v1.rooms(room.sid).update(status="completed")
    assert ended.status == "completed" and ended.end_time is not None
    for call in calls:
        wait_until(lambda sid=call.sid: call_status(client, sid) == "completed")
    people = client.video.v1.rooms(room.sid).participants.list()
    assert len(people) == 3 and {p.status for p in people} == {"disconnected"}
    with pytest.raises(TwilioRestException) as again:
        client.video.v1.rooms(room.sid).update(status="completed")
    assert (again.value.status, again.value.code) == (400, 53112)  # not in progress
    with pytest.raises(TwilioRestException) as by_name:
        client.video.v1.rooms("DailyStandup").fetch()
    assert (by_name.value.status, by_name.value.code) == (404, 20404)
    wait_until(lambda: any(e.kind == "room-ended" for e in webhook.of_kind(RoomEvent)))


def test_a_room_that_is_not_in_progress_lets_the_call_fall_through(client, webhook, sandbox):
    call = dial(client, webhook, "NoSuchRoom", "dave")
    wait_until(lambda: call_status(client, call.sid) == "completed", timeout=6)
    assert client.video.v1.rooms.list(unique_name="NoSuchRoom") == []
    assert not sandbox.errors


def test_a_full_room_refuses_the_next_caller(client, webhook, sandbox):
    make_room(client, webhook, max_participants=1)
    dial(client, webhook, "DailyStandup", "first")
    wait_until(lambda: connected(client, "DailyStandup"))
    late = dial(client, webhook, "DailyStandup", "second")
    wait_until(lambda: sandbox.errors_of(late.sid))
    assert [e.code for e in sandbox.errors_of(late.sid)] == [53105]
    assert [p.identity for p in connected(client, "DailyStandup")] == ["first"]


def test_a_room_name_in_use_is_refused(client, webhook):
    make_room(client, webhook)
    with pytest.raises(TwilioRestException) as taken:
        make_room(client, webhook)
    assert (taken.value.status, taken.value.code) == (400, 53113)


def test_many_calls_at_once(client, webhook, sandbox):
    sandbox.call_queue.set_rate(100)  # a room's capacity is the point here, not the CPS queue
    make_room(client, webhook)
    for index in range(20):
        dial(client, webhook, "DailyStandup", f"caller{index}")
    wait_until(lambda: len(connected(client, "DailyStandup")) == 20, timeout=10)
    listed = list(client.video.v1.rooms("DailyStandup").participants.stream(page_size=7))
    assert len({p.identity for p in listed}) == 20


def test_too_many_phone_participants(client, webhook, sandbox):
    sandbox.call_queue.set_rate(100)
    make_room(client, webhook)
    for index in range(36):
        dial(client, webhook, "DailyStandup", f"p{index}")
    wait_until(lambda: [e for e in sandbox.errors if e.code == 53105], timeout=10)
    wait_until(lambda: len(connected(client, "DailyStandup")) == 35, timeout=10)
