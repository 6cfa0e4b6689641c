"""Callbacks become immutable typed events, delivered without delaying Twilio's answer."""

import dataclasses
import threading

import pytest

from tests.helpers.signing import twilio_signature
from webhook import create_app
from webhook.events import CallStatusEvent, RequestLogged, RoomEvent

TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://hooks.example.org"
CALL_FORM = {
    "CallSid": "CA" + "a" * 32,
    "AccountSid": "AC" + "b" * 32,
    "CallStatus": "in-progress",
    "SequenceNumber": "2",
    "From": "+15005550006",
    "To": "+15551234567",
}
ROOM_FORM = {
    "StatusCallbackEvent": "participant-connected",
    "RoomSid": "RM" + "c" * 32,
    "RoomName": "DailyStandup",
    "ParticipantIdentity": "alice",
}


class Collector:
    """Collects events and lets a test wait for a given number of them."""

    def __init__(self, block: threading.Event | None = None, fail: bool = False) -> None:
        self.events: list = []
        self.arrived = threading.Condition()
        self.block = block
        self.fail = fail

    def __call__(self, event) -> None:
        if self.block is not None:
            self.block.wait(5)
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()
        if self.fail:
            raise RuntimeError("consumer exploded")

    def wait_for(self, kind, count: int = 1) -> list:
        with self.arrived:
            assert self.arrived.wait_for(
                lambda: len([e for e in self.events if isinstance(e, kind)]) >= count, timeout=5
            )
            return [e for e in self.events if isinstance(e, kind)]


def post(app, route, form):
    signature = twilio_signature(TOKEN, PUBLIC + route, form)
    return app.test_client().post(route, data=form, headers={"X-Twilio-Signature": signature})


def make_app(consumer):
    return create_app({"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC}, on_event=consumer)


def test_call_status_becomes_typed_event_with_all_fields():
    events = Collector()
    app = make_app(events)
    assert post(app, "/voice/status", CALL_FORM).status_code == 204
    (event,) = events.wait_for(CallStatusEvent)
    assert event.call_sid == CALL_FORM["CallSid"]
    assert event.status == "in-progress"
    assert event.sequence_number == 2
    assert dict(event.fields) == CALL_FORM


def test_room_callback_becomes_room_event():
    events = Collector()
    app = make_app(events)
    assert post(app, "/video/status", ROOM_FORM).status_code == 204
    (event,) = events.wait_for(RoomEvent)
    assert event.kind == "participant-connected"
    assert event.room_name == "DailyStandup"
    assert event.participant_identity == "alice"


def test_events_are_immutable():
    events = Collector()
    post(make_app(events), "/voice/status", CALL_FORM)
    (event,) = events.wait_for(CallStatusEvent)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.fields = {}
    with pytest.raises(TypeError):
        event.fields["CallStatus"] = "completed"


def test_slow_consumer_does_not_delay_the_answer():
    release = threading.Event()
    events = Collector(block=release)
    app = make_app(events)
    # The consumer is blocked; the webhook must still answer every callback.
    for _ in range(3):
        assert post(app, "/voice/status", CALL_FORM).status_code == 204
    assert events.events == []
    release.set()
    assert len(events.wait_for(CallStatusEvent, 3)) == 3


def test_failing_consumer_does_not_break_the_webhook(caplog):
    events = Collector(fail=True)
    app = make_app(events)
    for _ in range(2):
        assert post(app, "/voice/status", CALL_FORM).status_code == 204
    assert len(events.wait_for(CallStatusEvent, 2)) == 2


def test_requests_are_logged_with_twiml_and_rejections():
    events = Collector()
    app = make_app(events)
    post(app, "/voice/outbound?room=R&identity=alice", {"CallSid": "CA1"})
    app.test_client().post("/voice/outbound?room=R", data={"CallSid": "CA1"})
    logged = events.wait_for(RequestLogged, 2)
    assert logged[0].status == 200 and "<Room" in logged[0].detail
    assert logged[1].status == 403 and "missing X-Twilio-Signature" in logged[1].detail
