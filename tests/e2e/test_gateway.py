"""The console's Gateway against the sandbox: plain records out, Twilio errors typed."""

import pytest

from console.core.calls.records import Call, Participant, Room
from console.core.gateways.gateway import Gateway, TwilioError
from console.core.gateways.twilio_http import make_client
from tests.helpers import wait_until

EVENTS = ["initiated", "ringing", "answered", "completed"]


@pytest.fixture
def gateway(client) -> Gateway:
    return Gateway(client)


def dial(gateway: Gateway, webhook, room: str, identity: str, to: str = "+15551234567") -> Call:
    return gateway.place_call(
        to,
        "+15005550006",
        f"{webhook.url}/voice/outbound?room={room}&identity={identity}",
        f"{webhook.url}/voice/status",
        EVENTS,
    )


def test_dial_in_and_see_the_participant(gateway, webhook):
    room = gateway.create_room("DailyStandup")
    assert isinstance(room, Room)
    assert (room.unique_name, room.type, room.status) == ("DailyStandup", "group", "in-progress")
    call = dial(gateway, webhook, "DailyStandup", "alice")
    assert call.sid.startswith("CA") and call.to == "+15551234567"
    wait_until(lambda: [p.identity for p in gateway.list_participants(room.sid)] == ["alice"])
    (participant,) = gateway.list_participants(room.sid)
    assert isinstance(participant, Participant)
    assert participant.status == "connected"
    (listed,) = gateway.list_rooms()
    assert (listed.unique_name, listed.participant_count) == ("DailyStandup", 1)


def test_hang_up_and_end_room(gateway, webhook):
    room = gateway.create_room("Support", max_participants=10)
    assert room.max_participants == 10
    call = dial(gateway, webhook, "Support", "bob")
    wait_until(lambda: len(gateway.list_participants(room.sid)) == 1)
    gateway.hang_up(call.sid)
    wait_until(lambda: gateway.list_participants(room.sid) == [])
    gateway.end_room(room.sid)
    assert gateway.list_rooms() == []


def test_disconnect_participant(gateway, webhook):
    room = gateway.create_room("Ops")
    dial(gateway, webhook, "Ops", "carol")
    wait_until(lambda: len(gateway.list_participants(room.sid)) == 1)
    (participant,) = gateway.list_participants(room.sid)
    gateway.disconnect_participant(room.sid, participant.sid)
    wait_until(lambda: gateway.list_participants(room.sid) == [])


def test_numbers_and_credentials(gateway, sandbox):
    numbers = {n.number for n in gateway.list_numbers()}
    assert {"+15005550006", "+15005550007"} <= numbers
    assert gateway.check_credentials()


def test_errors_are_typed_with_twilio_codes(gateway, webhook):
    with pytest.raises(TwilioError) as invalid:
        dial(gateway, webhook, "R", "x", to="+15005550001")
    assert invalid.value.code == 21211
    assert "21211" in str(invalid.value)
    gateway.create_room("Dup")
    with pytest.raises(TwilioError) as duplicate:
        gateway.create_room("Dup")
    assert duplicate.value.code == 53113


def test_wrong_token_is_20003(sandbox, sandbox_server):
    bad = Gateway(make_client(sandbox.account_sid, "0" * 32, base_url=sandbox_server.url))
    with pytest.raises(TwilioError) as error:
        bad.check_credentials()
    assert (error.value.code, error.value.status) == (20003, 401)


def test_unreachable_twilio_is_a_clear_error():
    gateway = Gateway(make_client("AC" + "0" * 32, "0" * 32, base_url="http://127.0.0.1:9"))
    with pytest.raises(TwilioError, match="Could not reach Twilio"):
        gateway.list_rooms()
