"""The TwiML for incoming calls: routes, meeting codes, hold, and the operator's redirect."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from tests.helpers import wait_until
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of, verbs
from tests.unit.webhook.test_routes import ISSUE_EXAMPLE
from webhook import create_app, twiml
from webhook.events import CallerWaiting, RoutesLoaded
from webhook.incoming import routes_file

TOKEN = "abcdefabcdefabcdefabcdefabcdef12"
PUBLIC = "https://switchboard.example.net"
CALL = {"CallSid": "CA" + "1" * 32, "From": "+14155550100", "To": "+15005550006"}


@pytest.fixture
def routes_path(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def events() -> list:
    return []


@pytest.fixture
def app(routes_path, events):
    config = {"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC, "ROUTES_FILE": str(routes_path)}
    app = create_app(config, events.append)
    yield app
    app.extensions["switchboard.events"].close()


def post(app, route: str, **fields: str):
    form = {**CALL, **fields}
    signature = twilio_signature(TOKEN, PUBLIC + route, form)
    response = app.test_client().post(route, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.data
    return parse_twiml(response.data)


def test_a_direct_route_joins_the_room_as_the_known_caller(app):
    root = post(app, "/voice/incoming")
    assert verbs(root) == ["Connect", "Say", "Hangup"]
    room = room_of(root)
    assert (room.text, room.attrib) == ("DailyStandup", {"participantIdentity": "alice"})
    assert "not started" in root.find("Say").text


def test_an_unknown_caller_gets_a_free_variant_of_a_derived_identity(app):
    app.config["ROOM_IDENTITIES"] = lambda room: {"phone-0100"} if room == "DailyStandup" else set()
    room = room_of(post(app, "/voice/incoming", From="+16505550100"))
    assert room.attrib["participantIdentity"] == "phone-0100-2"


def test_a_failing_identity_lookup_does_not_cost_the_call(app):
    def broken(room: str) -> set[str]:
        raise ConnectionError("REST is down")

    app.config["ROOM_IDENTITIES"] = broken
    room = room_of(post(app, "/voice/incoming", From="+16505550100"))
    assert room.attrib["participantIdentity"] == "phone-0100"


def test_ask_code_gathers_digits_ending_with_hash(app):
    root = post(app, "/voice/incoming", To="+15005550007")
    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather.attrib["input"] == "dtmf" and gather.attrib["finishOnKey"] == "#"
    assert gather.attrib["action"] == "code?attempt=1"
    assert [child.tag for child in gather] == ["Say"]
    assert root.find("Redirect").text == "code?attempt=1"  # silence is a try too


def test_relative_urls_keep_the_public_urls_path_prefix(tmp_path, routes_path):
    prefixed = PUBLIC + "/switchboard"
    config = {"AUTH_TOKEN": TOKEN, "PUBLIC_URL": prefixed, "ROUTES_FILE": str(routes_path)}
    app = create_app(config)
    incoming_url = prefixed + "/voice/incoming"
    form = {**CALL, "To": "+15005550007"}
    signature = twilio_signature(TOKEN, incoming_url, form)
    client = app.test_client()
    answer = client.post("/voice/incoming", data=form, headers={"X-Twilio-Signature": signature})
    action = urljoin(incoming_url, parse_twiml(answer.data).find("Gather").attrib["action"])
    assert action == prefixed + "/voice/code?attempt=1"  # what Twilio requests, and signs
    form["Digits"] = "4242"
    signature = twilio_signature(TOKEN, action, form)
    answer = client.post(
        "/voice/code?attempt=1", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert room_of(parse_twiml(answer.data)).text == "DailyStandup"


def test_a_good_code_joins_its_room(app):
    root = post(app, "/voice/code?attempt=2", Digits="4242", To="+15005550007")
    room = room_of(root)
    assert (room.text, room.attrib["participantIdentity"]) == ("DailyStandup", "alice")


@pytest.mark.parametrize(("digits", "said"), [("1111", twiml.WRONG_CODE), ("", twiml.NO_CODE)])
def test_a_wrong_or_missing_code_asks_again(app, digits, said):
    root = post(app, "/voice/code?attempt=1", Digits=digits)
    assert verbs(root) == ["Say", "Gather", "Redirect"]
    assert root.find("Say").text == said
    assert root.find("Gather").attrib["action"] == "code?attempt=2"


@pytest.mark.parametrize("attempt", ["3", "99"])
def test_the_third_wrong_code_says_goodbye(app, attempt):
    root = post(app, f"/voice/code?attempt={attempt}", Digits="1111")
    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Say").text == twiml.CODE_GOODBYE


def test_a_bad_attempt_number_starts_over(app):
    root = post(app, "/voice/code?attempt=x", Digits="1")
    assert root.find("Gather").attrib["action"] == "code?attempt=2"


def test_hold_says_a_message_emits_caller_waiting_and_loops(app, events):
    root = post(app, "/voice/incoming", To="+15551110000", From="+16505550100")
    assert verbs(root) == ["Say", "Redirect"]
    assert root.find("Redirect").text == "hold"
    app.extensions["switchboard.events"].close()
    waiting = [e for e in events if isinstance(e, CallerWaiting)]
    assert len(waiting) == 1
    event = waiting[0]
    assert (event.call_sid, event.from_, event.to) == (
        CALL["CallSid"],
        "+16505550100",
        "+15551110000",
    )
    assert event.identity == "phone-0100" and event.since.tzinfo is not None
    loop = post(app, "/voice/hold")
    assert verbs(loop) == ["Say", "Pause", "Redirect"]
    assert loop.find("Redirect").text == "hold"


def test_hold_music_replaces_the_message(app):
    app.config.update(HOLD_MUSIC_URL="https://example.com/hold.mp3", HOLD_PAUSE_SECONDS=3)
    loop = post(app, "/voice/hold")
    assert verbs(loop) == ["Play", "Pause", "Redirect"]
    assert loop.find("Pause").attrib["length"] == "3"


def test_unsigned_requests_are_refused(app):
    for route in ("/voice/incoming", "/voice/code?attempt=1", "/voice/hold"):
        assert app.test_client().post(route, data=CALL).status_code == 403


def test_without_a_match_the_default_room_is_used(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text('[[route]]\nnumber = "+15005550007"\nroom = "Other"\n', encoding="utf-8")
    app = create_app(
        {
            "AUTH_TOKEN": TOKEN,
            "PUBLIC_URL": PUBLIC,
            "ROUTES_FILE": str(path),
            "DEFAULT_ROOM": "Lobby",
        }
    )
    room = room_of(post(app, "/voice/incoming"))
    assert (room.text, room.attrib["participantIdentity"]) == ("Lobby", "phone-0100")


def test_a_malformed_file_keeps_the_last_good_rules(app, routes_path, events):
    post(app, "/voice/incoming")
    routes_path.write_text(ISSUE_EXAMPLE.replace("hold = true", "hold = yes"), encoding="utf-8")
    wait_until(lambda: routes_file(app).error)  # the watcher thread reads it, not a request
    assert room_of(post(app, "/voice/incoming")).text == "DailyStandup"
    assert 'line 9, key "hold"' in routes_file(app).error
    app.extensions["switchboard.events"].close()
    loaded = [e for e in events if isinstance(e, RoutesLoaded)]
    assert [bool(e.error) for e in loaded] == [False, True]
    assert 'line 9, key "hold"' in loaded[-1].error


def test_the_operator_redirect_document():
    document = twiml.join_room("DailyStandup", "bob")
    root = parse_twiml(document)
    assert verbs(root) == ["Connect", "Say", "Hangup"]
    assert '<Connect><Room participantIdentity="bob">DailyStandup</Room></Connect>' in document
