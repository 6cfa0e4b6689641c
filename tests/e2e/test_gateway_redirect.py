"""Gateway.redirect_call against the sandbox: move a caller, put a held caller in, sent once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from console.core.calls.records import Call
from console.core.gateways.gateway import Gateway, TwilioError
from sandbox.core import Sandbox
from sandbox.server import SandboxServer
from tests.helpers import wait_until
from tests.helpers.incoming_line import serve_incoming
from webhook import create_app, twiml
from webhook.events import CallerWaiting

EVENTS = ["initiated", "ringing", "answered", "completed"]
HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'


@pytest.fixture
def gateway(client) -> Gateway:
    return Gateway(client, sleep=lambda seconds: pytest.fail(f"a write slept {seconds} s"))


def identities(gateway: Gateway, room_sid: str) -> list[str]:
    return [p.identity for p in gateway.list_participants(room_sid)]


def dial(gateway: Gateway, webhook, room: str, identity: str) -> Call:
    return gateway.place_call(
        "+15551234567",
        "+15005550006",
        f"{webhook.url}/voice/outbound?room={room}&identity={identity}",
        f"{webhook.url}/voice/status",
        EVENTS,
    )


def test_a_connected_caller_moves_to_another_room_as_the_same_identity(gateway, webhook):
    standup, support = gateway.create_room("DailyStandup"), gateway.create_room("Support")
    call = dial(gateway, webhook, "DailyStandup", "alice")
    wait_until(lambda: identities(gateway, standup.sid) == ["alice"])

    moved = gateway.redirect_call(call.sid, twiml.join_room("Support", "alice"))

    assert isinstance(moved, Call)
    assert (moved.sid, moved.to) == (call.sid, "+15551234567")
    wait_until(lambda: identities(gateway, support.sid) == ["alice"])
    assert identities(gateway, standup.sid) == []
    assert gateway.fetch_call(call.sid).status == "in-progress"  # the same call, still live


@pytest.fixture
def holding_webhook(sandbox: Sandbox, client, tmp_path: Path) -> Iterator[list]:
    """The real webhook holding every incoming call for the operator; yields its events."""
    routes = tmp_path / "routes.toml"
    routes.write_text(HOLD_ALL, encoding="utf-8")
    events: list = []
    app = create_app({"AUTH_TOKEN": sandbox.auth_token, "ROUTES_FILE": str(routes)}, events.append)
    server = serve_incoming(app, client)
    yield events
    server.stop()


def ring(sandbox: Sandbox, server: SandboxServer, from_: str, to: str) -> str:
    """A caller rings one of the account's numbers; returns the CallSid."""
    answer = requests.post(
        f"{server.url}/sandbox/IncomingCalls",
        data={"From": from_, "To": to},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["sid"]


def test_a_held_caller_is_put_in_a_room(gateway, sandbox, sandbox_server, holding_webhook):
    support = gateway.create_room("Support")
    sid = ring(sandbox, sandbox_server, "+16505550100", "+15005550006")
    (waiting,) = wait_until(lambda: [e for e in holding_webhook if isinstance(e, CallerWaiting)])
    assert (waiting.call_sid, waiting.identity) == (sid, "phone-0100")

    call = gateway.redirect_call(sid, twiml.join_room("Support", "dana"))

    assert (call.sid, call.direction, call.from_) == (sid, "inbound", "+16505550100")
    wait_until(lambda: identities(gateway, support.sid) == ["dana"])
    assert not sandbox.errors


def test_redirecting_an_ended_call_is_error_21220(gateway, webhook):
    gateway.create_room("Ops")
    call = dial(gateway, webhook, "Ops", "carol")
    wait_until(lambda: gateway.fetch_call(call.sid).status == "in-progress")
    gateway.hang_up(call.sid)
    wait_until(lambda: gateway.fetch_call(call.sid).finished)
    with pytest.raises(TwilioError) as error:
        gateway.redirect_call(call.sid, twiml.join_room("Ops", "carol"))
    assert (error.value.code, error.value.status) == (21220, 400)


def test_a_redirect_that_fails_is_not_sent_again(gateway, sandbox, sandbox_server, webhook):
    room = gateway.create_room("Ops")
    call = dial(gateway, webhook, "Ops", "carol")
    wait_until(lambda: identities(gateway, room.sid) == ["carol"])
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls/{call.sid}.json"
    posts: list[str] = []
    inner = sandbox_server.app.wsgi_app

    def counting(environ, start_response):
        if (environ["REQUEST_METHOD"], environ["PATH_INFO"]) == ("POST", path):
            posts.append(path)
        return inner(environ, start_response)

    sandbox_server.app.wsgi_app = counting
    auth = (sandbox.account_sid, sandbox.auth_token)
    faults = f"{sandbox_server.url}/sandbox/Faults"
    plan = {"ErrorStatus": 503, "ErrorShare": 1, "PathPrefix": "/2010-04-01/"}
    assert requests.post(faults, data=plan, auth=auth, timeout=5).status_code == 200
    try:
        with pytest.raises(TwilioError) as error:
            gateway.redirect_call(call.sid, twiml.join_room("Elsewhere", "carol"))
    finally:
        requests.delete(faults, auth=auth, timeout=5)
    assert (error.value.status, error.value.code) == (503, 20503)
    assert posts == [path]  # sent once, never retried (the gateway's sleep fails the test)
    assert identities(gateway, room.sid) == ["carol"]
