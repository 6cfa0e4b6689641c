"""Routes that wait for their room to start: parsing routes.toml, and the TwiML of the wait."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of, verbs
from webhook import create_app, twiml
from webhook.events import CallerWaiting
from webhook.routes import (
    DEFAULT_MAX_WAIT,
    Route,
    RoutesError,
    RoutingRules,
    parse_routes,
    render_routes,
)

TOKEN = "abcdefabcdefabcdefabcdefabcdef12"
PUBLIC = "https://switchboard.example.net"
CALL = {"CallSid": "CA" + "2" * 32, "From": "+14155550100", "To": "+15005550006"}
ROUTES = """\
[[route]]
number = "+15005550006"
room = "DailyStandup"
wait_for_room = true
max_wait = 600

[callers]
"+14155550100" = "alice"
"""


def test_a_route_may_wait_for_its_room_up_to_max_wait():
    (route,) = parse_routes(ROUTES).routes
    assert route == Route("+15005550006", "DailyStandup", wait_for_room=True, max_wait=600)
    assert route.action == "room"
    plain = parse_routes('[[route]]\nnumber = "*"\nroom = "R"\nwait_for_room = true\n').routes[0]
    assert (plain.wait_for_room, plain.max_wait) == (True, DEFAULT_MAX_WAIT)  # 15 minutes
    assert parse_routes(render_routes(parse_routes(ROUTES))) == parse_routes(ROUTES)
    written = render_routes(RoutingRules((plain,)))
    assert "wait_for_room = true" in written and "max_wait" not in written  # the default


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ("hold = true\nwait_for_room = true", "wait_for_room", "needs the room"),
        ('room = "R"\nwait_for_room = "yes"', "wait_for_room", "true or false"),
        ('room = "R"\nmax_wait = 60', "max_wait", "goes with wait_for_room"),
        ('room = "R"\nwait_for_room = true\nmax_wait = 0', "max_wait", "whole number of seconds"),
        ('room = "R"\nwait_for_room = true\nmax_wait = 1.5', "max_wait", "whole number"),
        ('room = "R"\nwait_for_room = true\nmax_wait = 99999', "max_wait", "4 hours"),
        ('room = "R"\nwait_for_room = true\nmax_wait = true', "max_wait", "whole number"),
    ],
)
def test_a_bad_wait_is_reported_with_its_line_and_key(table, key, problem):
    text = f'[[route]]\nnumber = "+15005550006"\n{table}\n'
    with pytest.raises(RoutesError) as raised:
        parse_routes(text)
    assert raised.value.key == key and problem in raised.value.problem
    assert raised.value.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if line.startswith(key)
    )


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(ROUTES, encoding="utf-8")
    events: list = []
    config = {"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC, "ROUTES_FILE": str(path)}
    app = create_app(config, events.append)
    app.events = events
    yield app
    app.extensions["switchboard.events"].close()


def post(app, url: str, **fields: str):
    form = {**CALL, **fields}
    signature = twilio_signature(TOKEN, url, form)
    path = url[len(PUBLIC) :]
    answer = app.test_client().post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.data
    return parse_twiml(answer.data)


def waiting_in(app) -> list[CallerWaiting]:
    """The CallerWaiting events the app handed on (after delivering what was queued)."""
    app.extensions["switchboard.events"].close()
    return [e for e in app.events if isinstance(e, CallerWaiting)]


def test_the_caller_tries_the_room_first_then_waits_in_rounds(app):
    first = post(app, f"{PUBLIC}/voice/incoming")
    assert verbs(first) == ["Connect", "Say", "Redirect"]  # no <Hangup>: a missing room waits
    room = room_of(first)
    assert (room.text, room.attrib) == ("DailyStandup", {"participantIdentity": "alice"})
    assert first.find("Say").text == twiml.WAIT_FOR_ROOM
    wait_url = urljoin(f"{PUBLIC}/voice/incoming", first.find("Redirect").text)
    query = parse_qs(urlsplit(wait_url).query)
    assert (query["room"], query["identity"], query["announce"]) == (
        ["DailyStandup"],
        ["alice"],
        ["1"],
    )
    assert 590 <= int(query["until"][0]) - time.time() <= 600
    assert not waiting_in(app)  # not waiting yet: the room may be in progress

    round_one = post(app, wait_url)
    assert verbs(round_one) == ["Connect", "Say", "Pause", "Redirect"]
    assert room_of(round_one).text == "DailyStandup"
    (waiting,) = waiting_in(app)
    assert (waiting.call_sid, waiting.identity, waiting.room) == (
        CALL["CallSid"],
        "alice",
        "DailyStandup",
    )
    next_url = urljoin(wait_url, round_one.find("Redirect").text)
    assert "announce" not in parse_qs(urlsplit(next_url).query)  # announced once
    assert verbs(post(app, next_url)) == ["Connect", "Say", "Pause", "Redirect"]


def test_past_the_deadline_the_caller_hears_a_goodbye(app):
    url = f"{PUBLIC}/voice/wait?room=DailyStandup&identity=alice&until={int(time.time()) - 1}"
    root = post(app, url)
    assert verbs(root) == ["Say", "Hangup"] and root.find("Say").text == twiml.WAIT_GOODBYE


@pytest.mark.parametrize(
    "query",
    ["room=&identity=alice&until=9999999999", "room=R&identity=alice&until=soon", "identity=a"],
)
def test_a_bad_wait_url_is_refused_in_words_not_with_a_500(app, query):
    root = post(app, f"{PUBLIC}/voice/wait?{query}")
    assert verbs(root) == ["Say", "Hangup"] and "not valid" in root.find("Say").text


def test_an_unsigned_round_is_refused(app):
    answer = app.test_client().post("/voice/wait?room=R&identity=a&until=9999999999", data=CALL)
    assert answer.status_code == 403
