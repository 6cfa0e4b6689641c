"""Incoming calls end to end: sandbox callers, routes.toml, the real webhook and the SDK."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from console.core.gateways.twilio_http import make_client
from sandbox.core import Sandbox
from sandbox.server import SandboxServer
from tests.e2e.conftest import RunningWebhook
from tests.helpers import wait_until
from tests.helpers.incoming_line import serve_incoming
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook import create_app, twiml
from webhook.events import CallerWaiting, CallStatusEvent, RequestLogged, RoutesLoaded
from webhook.incoming import routes_file
from webhook.routes import Route, RoutingRules
from webhook.routes_file import save_routes

DIRECT, CODED, OTHER = "+15005550006", "+15005550007", "+15551110000"
ALICE = "+14155550100"
ROUTES = f"""\
[[route]]
number = "{DIRECT}"
room = "DailyStandup"

[[route]]
number = "{CODED}"
ask_code = true

[[route]]
number = "*"
hold = true

[codes]
4242 = "DailyStandup"

[callers]
"{ALICE}" = "alice"
"""


@dataclass
class Line:
    """The sandbox seen as the phone network: callers ring the account's numbers."""

    client: Client
    sandbox: Sandbox
    base_url: str
    hook: RunningWebhook
    routes: Path
    app: object

    def call(self, from_: str, to: str, digits: str = "") -> str:
        """A caller rings one of the account's numbers; returns the CallSid."""
        answer = requests.post(
            f"{self.base_url}/sandbox/IncomingCalls",
            data={"From": from_, "To": to, "Digits": digits},
            auth=(self.sandbox.account_sid, self.sandbox.auth_token),
            timeout=5,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["sid"]

    def heard(self, sid: str) -> list[str]:
        """What the caller heard so far (<Say> texts and <Play> URLs)."""
        answer = requests.get(
            f"{self.base_url}/sandbox/Calls/{sid}/Heard",
            auth=(self.sandbox.account_sid, self.sandbox.auth_token),
            timeout=5,
        )
        return [item["text"] for item in answer.json()["heard"]]

    def status(self, sid: str) -> str:
        return self.client.calls(sid).fetch().status

    def people(self, room: str) -> list[tuple[str, str]]:
        """(identity, call SID) of who is connected in a room."""
        try:
            found = self.client.video.v1.rooms(room).participants.list(status="connected")
        except TwilioRestException:
            return []
        return [(p.identity, self.sandbox.state.participants[p.sid].call_sid) for p in found]


def identities_in(client: Client):
    """ROOM_IDENTITIES for the webhook: who is connected in a room, over REST."""

    def lookup(room: str) -> set[str]:
        try:
            found = client.video.v1.rooms(room).participants.list(status="connected")
        except TwilioRestException as error:
            if error.status == 404:
                return set()
            raise
        return {p.identity for p in found}

    return lookup


@pytest.fixture
def line(
    sandbox: Sandbox, sandbox_server: SandboxServer, client: Client, tmp_path
) -> Iterator[Line]:
    """The webhook answering both account numbers from a routes file, at 10x simulated speed."""
    sandbox.clock.set_speed(10.0)
    sandbox.webhook_timeout = 150.0  # still 15 real seconds
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES, encoding="utf-8")
    lookup_client = make_client(
        sandbox.account_sid, sandbox.auth_token, base_url=sandbox_server.url
    )
    events: list = []
    config = {
        "AUTH_TOKEN": sandbox.auth_token,
        "DEFAULT_ROOM": "Lobby",
        "ROUTES_FILE": str(routes),
        "ROOM_IDENTITIES": identities_in(lookup_client),
        "HOLD_PAUSE_SECONDS": 2,
    }
    app = create_app(config, events.append)
    server = serve_incoming(app, client)
    yield Line(
        client, sandbox, sandbox_server.url, RunningWebhook(server.local_url, events), routes, app
    )
    server.stop()


def make_room(client: Client, name: str = "DailyStandup") -> None:
    client.video.v1.rooms.create(unique_name=name, type="group")


def test_a_known_caller_on_a_direct_route_joins_as_alice(line):
    make_room(line.client)
    sid = line.call(ALICE, DIRECT)
    assert wait_until(lambda: line.people("DailyStandup")) == [("alice", sid)]
    assert line.status(sid) == "in-progress"
    assert line.client.calls(sid).fetch().direction == "inbound"
    assert {e.status for e in line.hook.of_kind(RequestLogged)} <= {200, 204}  # all signed
    assert not line.sandbox.errors


def test_unknown_callers_get_phone_identities_and_free_variants(line):
    make_room(line.client)
    first = line.call("+16505550100", DIRECT)
    wait_until(lambda: line.people("DailyStandup"))
    second = line.call("+12125550100", DIRECT)
    people = wait_until(
        lambda: len(line.people("DailyStandup")) == 2 and line.people("DailyStandup")
    )
    assert sorted(people) == sorted([("phone-0100", first), ("phone-0100-2", second)])
    assert line.status(first) == line.status(second) == "in-progress"


def test_a_good_meeting_code_joins_its_room(line):
    make_room(line.client)
    sid = line.call(ALICE, CODED, digits="4242#")
    assert wait_until(lambda: line.people("DailyStandup"), timeout=10) == [("alice", sid)]
    assert line.heard(sid) == [twiml.CODE_PROMPT]


def test_two_bad_codes_then_a_good_one(line):
    make_room(line.client)
    sid = line.call("+16505550100", CODED, digits="1111#2222#4242#")
    assert wait_until(lambda: line.people("DailyStandup"), timeout=10) == [("phone-0100", sid)]
    assert line.heard(sid) == [
        twiml.CODE_PROMPT,
        twiml.WRONG_CODE,
        twiml.CODE_PROMPT,
        twiml.WRONG_CODE,
        twiml.CODE_PROMPT,
    ]


def test_three_bad_codes_end_the_call_with_a_goodbye(line):
    make_room(line.client)
    sid = line.call(ALICE, CODED, digits="1#2#3#")
    wait_until(lambda: line.status(sid) == "completed", timeout=10)
    assert line.heard(sid)[-1] == twiml.CODE_GOODBYE
    assert line.heard(sid).count(twiml.CODE_PROMPT) == 3
    assert line.people("DailyStandup") == []
    assert not line.sandbox.errors


def hold_everything(line: Line) -> None:
    """Routes without DIRECT's own route, so a call to it meets the catch-all hold route."""
    line.routes.write_text(ROUTES.replace(f'number = "{DIRECT}"', f'number = "{OTHER}"'))
    wait_until(lambda: routes_file(line.app).rules.route_for(DIRECT).hold)  # the watcher read it


def test_a_held_caller_waits_and_the_operator_puts_them_in_a_room(line):
    make_room(line.client, "Support")
    hold_everything(line)
    sid = line.call("+16505550100", DIRECT)
    waiting = wait_until(lambda: line.hook.of_kind(CallerWaiting))
    assert [(w.call_sid, w.from_, w.to, w.identity) for w in waiting] == [
        (sid, "+16505550100", DIRECT, "phone-0100")
    ]
    # The hold loop keeps the caller on the line: the message comes round again and again.
    wait_until(lambda: line.heard(sid).count(twiml.HOLD_MESSAGE) >= 3, timeout=10)
    assert line.heard(sid)[0] == twiml.HOLD_GREETING
    assert line.status(sid) == "in-progress" and line.people("Support") == []
    assert len(line.hook.of_kind(CallerWaiting)) == 1  # the loop does not announce it again

    # The operator picks Support and "dana": the console redirects the live call.
    line.client.calls(sid).update(twiml=twiml.join_room("Support", "dana"))
    assert wait_until(lambda: line.people("Support")) == [("dana", sid)]
    assert line.status(sid) == "in-progress"
    assert not line.sandbox.errors


def test_a_caller_who_hangs_up_while_waiting_is_reported_gone(line):
    hold_everything(line)
    sid = line.call(ALICE, DIRECT)
    wait_until(lambda: line.hook.of_kind(CallerWaiting))
    wait_until(lambda: twiml.HOLD_MESSAGE in line.heard(sid))
    hung_up = requests.post(
        f"{line.base_url}/sandbox/Calls/{sid}/Hangup",
        auth=(line.sandbox.account_sid, line.sandbox.auth_token),
        timeout=5,
    )
    assert hung_up.status_code == 200
    final = wait_until(
        lambda: [e for e in line.hook.of_kind(CallStatusEvent) if e.call_sid == sid and e.is_final]
    )
    assert [e.status for e in final] == ["completed"]
    assert final[0].get("Direction") == "inbound" and final[0].get("From") == ALICE
    assert line.status(sid) == "completed"


def test_a_route_to_a_room_not_in_progress_explains_and_hangs_up(line):
    sid = line.call(ALICE, DIRECT)
    wait_until(lambda: line.status(sid) == "completed", timeout=10)
    assert line.heard(sid) == [twiml.NOT_IN_PROGRESS]
    assert line.client.video.v1.rooms.list(unique_name="DailyStandup") == []
    assert not line.sandbox.errors


def test_a_malformed_file_keeps_the_last_good_rules_until_it_is_fixed(line):
    make_room(line.client)
    make_room(line.client, "Support")
    first = line.call(ALICE, DIRECT)
    wait_until(lambda: line.people("DailyStandup"))
    line.routes.write_text(ROUTES.replace('room = "DailyStandup"', 'rooom = "Support"'))
    wait_until(lambda: routes_file(line.app).error)
    second = line.call("+16505550100", DIRECT)
    wait_until(lambda: len(line.people("DailyStandup")) == 2)
    assert sorted(line.people("DailyStandup")) == sorted([("alice", first), ("phone-0100", second)])
    error = routes_file(line.app).error
    assert 'line 3, key "rooom"' in error and "routes.toml" in error
    problems = [e.error for e in line.hook.of_kind(RoutesLoaded) if e.error]
    assert problems == [error]

    line.routes.write_text(ROUTES.replace('room = "DailyStandup"', 'room = "Support"'))
    wait_until(lambda: not routes_file(line.app).error)
    third = line.call("+12125550100", DIRECT)
    assert wait_until(lambda: line.people("Support")) == [("phone-0100", third)]
    assert routes_file(line.app).error == ""
    assert line.hook.of_kind(RoutesLoaded)[-1].error == ""


def test_a_deleted_file_keeps_the_last_good_rules_until_it_is_back(line):
    make_room(line.client)
    line.routes.unlink()
    problem = wait_until(lambda: routes_file(line.app).error)
    assert "is missing; the last good rules (3 route(s)" in problem
    sid = line.call(ALICE, DIRECT)  # not the default room, not a made-up identity
    assert wait_until(lambda: line.people("DailyStandup")) == [("alice", sid)]
    assert [e.error for e in line.hook.of_kind(RoutesLoaded)] == ["", problem]


@pytest.mark.slow
def test_calls_are_answered_from_the_last_good_rules_while_a_huge_file_is_read(line):
    routes = (Route(f"+1555{i:07d}", hold=True) for i in range(100_000))
    save_routes(line.routes, RoutingRules((Route(DIRECT, room="Support"), *routes)))
    file = routes_file(line.app)
    wait_until(lambda: file.reading)
    form = {"CallSid": "CA" + "5" * 32, "From": ALICE, "To": DIRECT}
    token = line.sandbox.auth_token
    answer = signed_post(line.hook.url, "/voice/incoming", token, form)
    health = requests.get(f"{line.hook.url}/health", timeout=5)
    assert file.reading  # both were answered while the new file was still being read
    assert room_of(parse_twiml(answer.content)).text == "DailyStandup"
    assert health.status_code == 200
    wait_until(lambda: file.rules.route_for(DIRECT).room == "Support", timeout=60)
    answer = signed_post(line.hook.url, "/voice/incoming", token, form)
    assert room_of(parse_twiml(answer.content)).text == "Support"


def signed_post(url: str, path: str, token: str, form: dict[str, str]) -> requests.Response:
    signature = twilio_signature(token, url + path, form)
    return requests.post(
        url + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=5
    )


def test_the_webhook_command_uses_the_routes_file_it_is_given(tmp_path):
    token = "00112233445566778899aabbccddeeff"
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    command = RunningCommand(
        "webhook", "--port", "0", "--routes", str(routes), env={"TWILIO_AUTH_TOKEN": token}
    )
    try:
        local = command.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        command.wait_for_line(re.escape(f"Routes: {routes} (3 route(s))"))
        form = {"CallSid": "CA" + "7" * 32, "From": ALICE, "To": DIRECT}
        answer = signed_post(local, "/voice/incoming", token, form)
        room = room_of(parse_twiml(answer.content))
        assert (room.text, room.attrib["participantIdentity"]) == ("DailyStandup", "alice")
        routes.write_text(ROUTES.replace('room = "DailyStandup"', 'room = "Support"'))

        def answered_room() -> str:
            answer = signed_post(local, "/voice/incoming", token, form)
            return room_of(parse_twiml(answer.content)).text

        wait_until(lambda: answered_room() == "Support")  # each worker's watcher rereads it
    finally:
        assert command.terminate() == 0


def test_the_webhook_command_reports_a_malformed_routes_file(tmp_path, user_dirs):
    routes = user_dirs.config / "Switchboard" / "routes.toml"  # the default, beside the settings
    routes.parent.mkdir(parents=True)
    routes.write_text(ROUTES.replace("ask_code = true", "ask_code = maybe"))
    command = RunningCommand(
        "webhook",
        "--port",
        "0",
        env={"TWILIO_AUTH_TOKEN": "0" * 32, "XDG_CONFIG_HOME": str(user_dirs.config)},
    )
    try:
        command.wait_for_line(re.escape(f"Routes: {routes}"))
        problem = command.wait_for_line(r"Routes file problem.*")
        assert 'line 7, key "ask_code"' in problem.string
        command.wait_for_line(r"Press Ctrl-C to stop")
    finally:
        assert command.terminate() == 0


def test_the_webhook_command_refuses_a_missing_routes_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    command = RunningCommand(
        "webhook", "--port", "0", "--routes", str(missing), env={"TWILIO_AUTH_TOKEN": "0" * 32}
    )
    command.wait_for_line(r"routes file .*nowhere\.toml does not exist")
    assert command.process.wait(10) == 2
