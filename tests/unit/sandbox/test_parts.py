"""Sandbox building blocks: clock, room rules, faults, the SDK's HTTP client, the spec checker."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from werkzeug.datastructures import MultiDict

from console.core.gateways.twilio_http import SandboxHttpClient, make_client, rewrite_url
from sandbox.clock import Clock
from sandbox.core import Sandbox
from sandbox.errors import TwilioApiError
from sandbox.faults import FaultInjector, FaultPlan
from sandbox.models import Call
from sandbox.serialize import rfc2822
from sandbox.server import SandboxPortInUse, SandboxServer
from tests.helpers import wait_until
from tests.helpers.openapi_check import SpecMismatch, check_response


def test_fast_clock_sleeps_less_and_advances_more():
    clock = Clock(speed=100)
    before = clock.now()
    started = time.monotonic()
    assert clock.sleep(5.0, threading.Event()) is True
    assert time.monotonic() - started < 1
    assert (clock.now() - before).total_seconds() >= 5


def test_clock_sleep_wakes_early():
    wake = threading.Event()
    wake.set()
    assert Clock().sleep(60, wake) is False


@pytest.mark.parametrize(
    "url",
    [
        "https://video.twilio.com/v1/Rooms",
        "https://api.twilio.com/v1/Rooms",
        "https://api.us1.twilio.com/v1/Rooms",
        "https://video.dublin.ie1.twilio.com/v1/Rooms",
    ],
)
def test_twilio_hosts_are_swapped_for_the_sandbox(url):
    assert rewrite_url(url, "http://127.0.0.1:8079/") == "http://127.0.0.1:8079/v1/Rooms"


def test_other_hosts_are_left_alone():
    assert rewrite_url("https://example.com/x", "http://s") == "https://example.com/x"
    assert (
        rewrite_url("https://twilio.com.evil.org/x", "http://s") == "https://twilio.com.evil.org/x"
    )


def test_make_client_honours_the_environment():
    client = make_client("AC" + "0" * 32, "t", env={"SWITCHBOARD_TWILIO_URL": "http://h:1"})
    assert isinstance(client.http_client, SandboxHttpClient)
    assert client.http_client.base_url == "http://h:1"
    assert not isinstance(make_client("AC" + "0" * 32, "t", env={}).http_client, SandboxHttpClient)


def _call(sandbox: Sandbox) -> Call:
    now = sandbox.clock.now()
    call = Call("CA" + "1" * 32, "+15551234567", "+15005550006", "outbound-api", now, now)
    sandbox.state.calls[call.sid] = call
    return call


def test_room_names_are_unique_among_in_progress_rooms():
    with Sandbox() as sandbox:
        state = sandbox.state
        room = state.create_room("R")
        with pytest.raises(TwilioApiError) as taken:
            state.create_room("R")
        assert taken.value.code == 53113
        state.end_room(room)
        assert state.create_room("R").sid != room.sid
        with pytest.raises(TwilioApiError) as ended:
            state.end_room(room)
        assert ended.value.code == 53112  # Status is invalid: the room is not in progress
        with pytest.raises(TwilioApiError) as big:
            state.create_room("Big", max_participants=51)
        assert big.value.code == 53107


def test_join_needs_an_in_progress_group_room():
    with Sandbox() as sandbox:
        state = sandbox.state
        call = _call(sandbox)
        assert state.join("Nowhere", "a", call) is None
        state.create_room("P2P", room_type="peer-to-peer")
        assert state.join("P2P", "a", call) is None
        state.create_room("G")
        assert state.join("G", "a", call).identity == "a"


def test_faults_hit_the_chosen_share():
    faults = FaultInjector(seed=1)
    faults.set_plan(FaultPlan(error_status=429, error_share=0.5))
    outcomes = [faults.decide("/v1/Rooms")[1] for _ in range(400)]
    failures = [o for o in outcomes if o is not None]
    assert 150 < len(failures) < 250
    assert {(f.status, f.code) for f in failures} == {(429, 20429)}
    with pytest.raises(TwilioApiError):
        faults.set_plan(FaultPlan(error_share=2))


def test_credentials_accept_token_and_api_key_only():
    with Sandbox("AC" + "a" * 32, "b" * 32) as sandbox:
        assert sandbox.authenticate("AC" + "a" * 32, "b" * 32)
        assert sandbox.authenticate(sandbox.api_key_sid, sandbox.api_key_secret)
        assert not sandbox.authenticate(sandbox.api_key_sid, "b" * 32)
        assert not sandbox.authenticate("AC" + "a" * 32, "")


def test_server_stops_within_a_second_and_frees_the_port():
    with Sandbox() as sandbox:
        server = SandboxServer(sandbox)
        port = server.start()
        taken = SandboxServer(sandbox, port=port)
        with pytest.raises(SandboxPortInUse):
            taken.start()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1
        with socket.create_server(("127.0.0.1", port)):
            pass


ROOMS = "https://video.twilio.com/v1/Rooms/RM" + "0" * 32


def _room_body(**changes) -> bytes:
    with Sandbox() as sandbox:
        from sandbox import serialize

        room = sandbox.state.create_room("R")
        body = serialize.room(room, sandbox.account_sid, "https://video.twilio.com")
    body.update(changes)
    return json.dumps({k: v for k, v in body.items() if v is not ...}).encode()


def test_the_spec_checker_accepts_a_real_room():
    check_response("GET", ROOMS, 200, _room_body(), "application/json")


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "open"},
        {"sid": "XX" + "0" * 32},
        {"date_created": "Tue, 24 Nov 2026 18:00:00 +0000"},
        {"max_participants": "50"},
        {"unexpected": 1},
        {"media_region": ...},
    ],
)
def test_the_spec_checker_rejects_a_wrong_room(changes):
    with pytest.raises(SpecMismatch):
        check_response("GET", ROOMS, 200, _room_body(**changes), "application/json")


def test_the_spec_checker_rejects_bad_error_bodies():
    good = {"code": 20404, "message": "x", "more_info": "https://www.twilio.com/docs/errors/20404"}
    check_response("GET", ROOMS, 404, json.dumps({**good, "status": 404}).encode(), "")
    with pytest.raises(SpecMismatch):
        check_response("GET", ROOMS, 404, json.dumps(good).encode(), "")


def test_2010_dates_are_rfc_2822():
    assert rfc2822(Clock().now()).endswith(" +0000")


def test_a_placed_call_is_answered_as_created_while_it_rings_on():
    box = Sandbox(ring_delay=60)
    form = MultiDict({"To": "+15551234567", "From": "+15005550006", "Twiml": "<Response/>"})
    placed = box.place_call(form)
    try:
        live = box.find_call(placed.sid)
        wait_until(lambda: live.status == "ringing")
        assert placed.status == "queued"  # what POST Calls.json answers, however fast it rings
    finally:
        box.close()
