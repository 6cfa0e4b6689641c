"""Open event streams never take the threads that answer Twilio: a process holds at most its
stream limit of them, one operator at most a few, and a refused stream is told why."""

from __future__ import annotations

import queue
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from console.core.gateways.team_events import CONNECTED, TURNED_AWAY, TeamEventStream
from server import presence
from server.stream_slots import PER_OPERATOR, RETRY_SECONDS, StreamSlots, limit_for
from server.team_context import TEAM_KEY
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader
from tests.helpers.signing import twilio_signature
from tests.server.conftest import THREADS
from webhook import server as webhook_server


def _open(team_server, token: str) -> EventStreamReader:
    stream = EventStreamReader(team_server.api("/events"), token, timeout=10)
    assert stream.status == 200, stream.response.text
    stream.next_of("hello")
    return stream


def _refused(team_server, token: str) -> requests.Response:
    answer = requests.get(
        team_server.api("/events"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code != 200
    return answer


def _callback(team_server, sid: str) -> int:
    url = f"{team_server.url}/voice/status"
    fields = {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "0"}
    token = team_server.app.config["AUTH_TOKEN"]
    answer = requests.post(
        url, data=fields, headers={"X-Twilio-Signature": twilio_signature(token, url, fields)},
        timeout=10,
    )  # fmt: skip
    return answer.status_code


def _accepted_within(team_server, token: str, seconds: float) -> EventStreamReader:
    """A stream once a slot is free again (the server notices a closed one at its next write)."""

    def attempt() -> EventStreamReader | None:
        stream = EventStreamReader(team_server.api("/events"), token, timeout=10)
        if stream.status == 200:
            return stream
        stream.close()
        return None

    stream = wait_until(attempt, timeout=seconds, interval=0.2)
    stream.next_of("hello")
    return stream


def test_the_limit_leaves_threads_for_twilio_and_the_api():
    assert limit_for(64) == 56
    assert limit_for(16) == 8
    assert limit_for(4) == 1  # a tiny server still serves one console


def test_a_full_process_refuses_streams_and_still_answers_twilio(team_server):
    limit = limit_for(THREADS)
    assert team_server.app.config["STREAM_LIMIT"] == limit
    streams = [_open(team_server, team_server.token(f"op{n}")) for n in range(limit)]
    try:
        refused = _refused(team_server, team_server.token("late"))
        assert refused.status_code == 503
        assert refused.headers["Retry-After"].isdigit()
        error = refused.json()["error"]
        assert error["kind"] == "busy"
        assert f"{limit} event streams" in error["message"]
        assert _refused(team_server, "not-a-token").status_code == 401  # the token comes first
        # Every stream's thread is taken, yet Twilio and the team API are answered.
        assert _callback(team_server, "CA" + "1" * 32) == 204
        waiting = team_server.session("viewer").get(team_server.api("/waiting"), timeout=10)
        assert waiting.status_code == 200
        # Closing one stream gives its slot back.
        streams.pop().close()
        streams.append(_accepted_within(team_server, team_server.token("later"), 10))
    finally:
        for stream in streams:
            stream.close()


def test_one_operator_cannot_take_every_stream(team_server):
    token = team_server.token("alice")
    streams = [_open(team_server, token) for _ in range(PER_OPERATOR)]
    try:
        refused = _refused(team_server, token)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"].isdigit()
        assert f"{PER_OPERATOR} event streams" in refused.json()["error"]["message"]
        streams.append(_open(team_server, team_server.token("bob")))  # others still get theirs
        streams.pop(0).close()
        streams.append(_accepted_within(team_server, token, 10))
    finally:
        for stream in streams:
            stream.close()


def test_slots_are_counted_per_process_and_per_operator():
    slots = StreamSlots(limit=3, per_operator=2)
    assert slots.take(1) is None
    assert slots.take(1) is None
    refusal = slots.take(1)
    assert refusal is not None and refusal.status == 429
    assert slots.take(2) is None
    full = slots.take(3)
    assert full is not None and full.status == 503
    assert slots.open == 3
    slots.give_back(1)
    assert slots.take(3) is None
    assert slots.take(1) is not None  # the process is full again
    for operator_id in (1, 2, 3):
        slots.give_back(operator_id)
    assert slots.open == 0
    with pytest.raises(ValueError):
        slots.give_back(1)  # never more back than was taken


def test_a_console_refused_a_stream_says_why_and_waits_as_told(team_server):
    token = team_server.token("alice")
    streams = [_open(team_server, token) for _ in range(PER_OPERATOR)]
    states: queue.Queue[tuple[float, str, str]] = queue.Queue()
    console = TeamEventStream(
        team_server.url, token, lambda event: None, backoff=(0.05,),
        on_state=lambda state, detail: states.put((time.monotonic(), state, detail)),
    )  # fmt: skip
    console.start()
    try:
        refused_at, _, detail = _next_state(states, TURNED_AWAY, with_detail=True)
        assert "HTTP 429" in detail and f"{PER_OPERATOR} event streams open" in detail
        streams.pop().close()  # a slot is free within a heartbeat, but the answer said to wait
        connected_at, _, _ = _next_state(states, CONNECTED)
        assert connected_at - refused_at >= RETRY_SECONDS - 0.5  # not the 0.05 s backoff
        assert console.connections == 1
    finally:
        console.close()
        for stream in streams:
            stream.close()


def _next_state(states: queue.Queue, wanted: str, with_detail: bool = False) -> tuple:
    while True:
        at, state, detail = states.get(timeout=RETRY_SECONDS + 10)
        if state == wanted and (detail or not with_detail):
            return at, state, detail


@pytest.fixture
def quick_to_drop_dead_peers(monkeypatch):
    """Servers started after this drop a peer that stops acknowledging within a second."""
    monkeypatch.setattr(webhook_server, "DEAD_PEER_SECONDS", 1)


def _silent_stream(team_server, token: str) -> socket.socket:
    """An event stream whose reader takes the answer's first bytes and then reads no more,
    as a console does whose laptop went to sleep: what the server sends goes unacknowledged."""
    address = urlsplit(team_server.url)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # fills after an event or two
    reader.connect((address.hostname, address.port))
    reader.sendall(
        f"GET /team/v1/events HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    reader.settimeout(10)
    assert reader.recv(64).startswith(b"HTTP/1.1 200")
    return reader


def test_a_console_that_stops_answering_loses_its_stream_and_presence(
    quick_to_drop_dead_peers, team_server
):
    slots = team_server.app.extensions[TEAM_KEY].streams
    listening = _open(team_server, team_server.token("bob"))
    silent = _silent_stream(team_server, team_server.token("alice"))
    try:
        assert slots.open == 2
        with team_server.database.connection() as connection:
            assert presence.online(connection, team_server.account) == ["alice", "bob"]
        for n in range(40):  # events for both; alice's go unread
            assert _callback(team_server, f"CA{n:032d}") == 204
        wait_until(lambda: slots.open == 1, timeout=15, interval=0.1)
        with team_server.database.connection() as connection:
            assert presence.online(connection, team_server.account) == ["bob"]
        sids = [listening.next_of("call.status").data["data"]["sid"] for _ in range(40)]
        assert sids == [f"CA{n:032d}" for n in range(40)]  # bob read every one
        gone = listening.next_of("operator.offline")
        assert gone.data["data"] == {"operator": "alice"}
        assert _callback(team_server, "CA" + "f" * 32) == 204  # and his stream still flows
        assert listening.next_of("call.status").data["data"]["sid"] == "CA" + "f" * 32
    finally:
        silent.close()
        listening.close()
