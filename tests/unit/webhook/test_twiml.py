"""The TwiML the webhook answers: structure, bad input and injection attempts."""

from urllib.parse import quote, urlencode

import pytest

from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of, verbs
from webhook import create_app

TOKEN = "abcdefabcdefabcdefabcdefabcdef12"
PUBLIC = "https://switchboard.example.net"


@pytest.fixture
def app():
    return create_app({"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC})


def post_signed(app, route: str, form: dict | None = None):
    form = form or {"CallSid": "CA" + "0" * 32}
    signature = twilio_signature(TOKEN, PUBLIC + route, form)
    return app.test_client().post(route, data=form, headers={"X-Twilio-Signature": signature})


def outbound(app, **query):
    query_string = urlencode(query, quote_via=quote)
    return post_signed(app, "/voice/outbound" + (f"?{query_string}" if query_string else ""))


def test_connects_room_with_identity(app):
    response = outbound(app, room="DailyStandup", identity="alice")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = parse_twiml(response.data)
    assert verbs(root) == ["Connect", "Say", "Hangup"]
    room = room_of(root)
    assert room.text == "DailyStandup"
    assert room.attrib == {"participantIdentity": "alice"}


def test_exact_document_for_the_guide_example(app):
    body = outbound(app, room="DailyStandup", identity="alice").get_data(as_text=True)
    assert '<Connect><Room participantIdentity="alice">DailyStandup</Room></Connect>' in body


def test_empty_identity_leaves_the_attribute_out(app):
    for response in (outbound(app, room="DailyStandup", identity=""), outbound(app, room="R")):
        room = room_of(parse_twiml(response.data))
        assert "participantIdentity" not in room.attrib


def test_fallthrough_explains_and_hangs_up(app):
    root = parse_twiml(outbound(app, room="DailyStandup").data)
    assert "not started" in root.find("Say").text


@pytest.mark.parametrize(
    "query",
    [{}, {"room": ""}, {"room": "   "}, {"room": "x" * 129}, {"room": "R", "identity": "i" * 129}],
)
def test_bad_room_or_identity_gets_spoken_error_not_500(app, query):
    response = outbound(app, **query)
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert verbs(root) == ["Say", "Hangup"]
    assert "cannot be connected" in root.find("Say").text


def test_128_characters_is_allowed(app):
    room = room_of(parse_twiml(outbound(app, room="r" * 128, identity="i" * 128).data))
    assert room.text == "r" * 128


def test_invalid_utf8_is_refused(app):
    response = post_signed(app, "/voice/outbound?room=%FF%FE&identity=alice")
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert verbs(root) == ["Say", "Hangup"]
    assert "UTF-8" in root.find("Say").text


def test_unicode_names_survive(app):
    room = room_of(parse_twiml(outbound(app, room="Réunion 会議", identity="zoë").data))
    assert room.text == "Réunion 会議"
    assert room.attrib["participantIdentity"] == "zoë"


@pytest.mark.parametrize(
    "hostile",
    [
        "\"quoted\" & 'single'",
        "a&b<c>d",
        "</Room><Dial>+19005550100</Dial><Room>",
        '"/><Dial>+19005550100</Dial><Room x="',
        "]]><Dial>+19005550100</Dial>",
    ],
)
def test_hostile_values_stay_text_inside_the_one_room(app, hostile):
    root = parse_twiml(outbound(app, room=hostile, identity=hostile).data)
    assert verbs(root) == ["Connect", "Say", "Hangup"]
    room = room_of(root)
    assert room.text == hostile
    assert room.attrib["participantIdentity"] == hostile
    assert root.find(".//Dial") is None


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b[31m", "\r\n", "\x7f"])
def test_control_characters_are_refused_with_wellformed_twiml(app, control):
    response = outbound(app, room=f"Daily{control}Standup", identity="alice")
    assert response.status_code == 200
    root = parse_twiml(response.data)
    assert verbs(root) == ["Say", "Hangup"]
    assert root.find(".//Room") is None


def test_incoming_joins_default_room():
    app = create_app({"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC, "DEFAULT_ROOM": "Lobby"})
    root = parse_twiml(post_signed(app, "/voice/incoming").data)
    room = room_of(root)
    assert room.text == "Lobby"
    assert "participantIdentity" not in room.attrib


def test_incoming_without_default_room_says_so(app):
    root = parse_twiml(post_signed(app, "/voice/incoming").data)
    assert verbs(root) == ["Say", "Hangup"]
