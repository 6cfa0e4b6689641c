"""Webhook fuzz: thousands of generated requests, signed and not, hostile in every field.

Each test runs its own number of hypothesis examples and proves it ran them (a counter checked
after the run); together they send more than 5,000 requests through the real Flask app, and a
sample of them over a real HTTP connection to the webhook server. See fuzz_requests.py for what
is sent and the rules every answer must follow.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterator
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.helpers import wait_until
from tests.reliability import fuzz_requests as fz
from webhook import WebhookServer
from webhook.events import CallbackEvent, CallerWaiting, RequestLogged

# Examples each test must run; the module as a whole must send at least 5,000 requests.
RUNS = {
    "signed_outbound": 1100,
    "signed_incoming": 700,
    "signed_code": 450,
    "signed_hold": 150,
    "signed_callback": 600,
    "forged": 1000,
    "anything": 900,
    "over_http": 400,
}
assert sum(RUNS.values()) >= 5000


class Recorder:
    """The webhook's event consumer: keeps every event, in the order it was handed on."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in list(self.events) if isinstance(e, kind)]

    def settle(self, requests: int) -> None:
        """Wait until every request so far was logged: all events before it were handed on."""
        wait_until(lambda: len(self.of(RequestLogged)) >= requests, timeout=20)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(tmp_path, recorder):
    return fz.make_app(tmp_path, recorder).test_client()


def send(client, wire: fz.Wire) -> tuple[int, str, bytes]:
    """Send one request through Flask's test client (the whole WSGI app, no socket).

    Path and query go into the WSGI environ as a server puts them there (bytes as latin-1):
    left to the test client, they would be re-encoded as UTF-8, and no broken byte got through.
    """
    raw = {
        "PATH_INFO": unquote_to_bytes(wire.path.encode("latin-1")).decode("latin-1"),
        "QUERY_STRING": wire.query,
        "REQUEST_URI": wire.target,
    }
    response = client.open(
        "/",  # the real path is PATH_INFO above; "//host" here would be read as a host
        method=wire.method,
        data=wire.body,
        headers=wire.headers,
        environ_overrides=raw,
    )
    return response.status_code, response.headers.get("Content-Type", ""), response.get_data()


def fuzz(strategy: st.SearchStrategy, runs: int, check: Callable[[fz.Wire], None], *examples):
    """Run check on `runs` generated requests (plus pinned examples) and prove they all ran."""
    count = [0]

    @fz.fuzz_settings(runs)
    @given(strategy)
    def run(wire: fz.Wire) -> None:
        count[0] += 1
        check(wire)

    for pinned in examples:
        run = example(pinned)(run)
    run()
    assert count[0] >= runs, f"only {count[0]} of {runs} examples ran"
    return count[0]


def checked_by(client) -> Callable[[fz.Wire], None]:
    def check(wire: fz.Wire) -> None:
        fz.check_answer(wire, *send(client, wire))

    return check


def outbound(room: str, identity: str = "", query: str | None = None) -> fz.Wire:
    """A pinned outbound example (regressions found by this fuzz)."""
    if query is None:
        query = fz.encode_query([("room", room), ("identity", identity)], plus=False)
    expect = {"route": "outbound", "room": room, "identity": identity, "broken": False}
    return fz.form_request("/voice/outbound", query, [], fz.FORM_TYPE, expect)


def test_signed_outbound_answers_join_exactly_the_named_room_or_refuse(client, recorder):
    pinned = (
        outbound("Daily\uffffStandup", "alice"),  # XML cannot carry U+FFFF: refused, not 12100
        outbound("Daily", "al\ufffeice"),
        outbound("</Room><Dial>+15551234567</Dial><Room>", '"><Hangup/>'),
        outbound("Daily", "", query="room=Daily&%01=%FF"),  # a name quoted in the refusal
    )
    pinned[-1].expect["broken"] = True
    ran = fuzz(fz.signed_outbound(), RUNS["signed_outbound"], checked_by(client), *pinned)
    recorder.settle(ran)


def test_signed_incoming_calls_follow_their_route(client, recorder):
    held: list[str] = []

    def check(wire: fz.Wire) -> None:
        fz.check_answer(wire, *send(client, wire))
        if wire.expect["to"] == "+15005550008":
            held.append(wire.expect["from"])

    ran = fuzz(fz.signed_incoming(), RUNS["signed_incoming"], check)
    recorder.settle(ran)
    assert [e.from_ for e in recorder.of(CallerWaiting)] == held  # each hold told once


def test_signed_meeting_codes(client):
    fuzz(fz.signed_code(), RUNS["signed_code"], checked_by(client))


def test_signed_hold_rounds(client):
    fuzz(fz.signed_hold(), RUNS["signed_hold"], checked_by(client))


def test_signed_callbacks_are_handed_on_exactly_once_with_every_field(client, recorder):
    sent: list[dict] = []

    def check(wire: fz.Wire) -> None:
        fz.check_answer(wire, *send(client, wire))
        sent.append(wire.expect["fields"])

    ran = fuzz(fz.signed_callback(), RUNS["signed_callback"], check)
    recorder.settle(ran)
    handed_on = [dict(event.fields) for event in recorder.of(CallbackEvent)]
    assert handed_on == sent


def test_unsigned_and_forged_requests_get_403_and_reach_nobody(client, recorder):
    seen: set[str] = set()

    def check(wire: fz.Wire) -> None:
        status, content_type, body = send(client, wire)
        fz.check_answer(wire, status, content_type, body)
        assert status == 403, (wire, body[:300])
        seen.add(wire.expect["how"])

    pinned = fz.Wire(  # compare_digest raised on a non-ASCII signature: a 500
        "POST", "/voice/status", headers=[("X-Twilio-Signature", "sïgnature")], expect=GARBAGE
    )
    ran = fuzz(fz.forged(), RUNS["forged"], check, pinned)
    assert seen == set(fz.FORGERIES)
    recorder.settle(ran)
    assert recorder.of(CallbackEvent) == [] and recorder.of(CallerWaiting) == []
    assert {e.status for e in recorder.of(RequestLogged)} == {403}


GARBAGE = {"route": "forged", "how": "garbage"}
UNSIGNED = {"route": "anything", "mode": "none"}
ODD_REQUESTS = (  # regressions this fuzz found
    fz.Wire("GET", "/health", "\x80&nonce=1", expect=UNSIGNED),  # args: a 500 on non-UTF-8
    fz.Wire("PUT", "/nowhere", "\xe1", expect=UNSIGNED),  # the event log's full_path: a 500
    fz.Wire("OPTIONS", "/voice/outbound", expect=UNSIGNED),  # was an empty, unsigned 200
    fz.Wire("OPTIONS", "/static/x.js", expect=UNSIGNED),  # a /static/ route served nothing
)


def test_anything_at_all_gets_no_5xx_and_only_whitelisted_twiml(client):
    statuses: set[int] = set()
    through: list[str] = []  # signed as sent: past the signature check, into the routes

    def check(wire: fz.Wire) -> None:
        status, content_type, body = send(client, wire)
        fz.check_answer(wire, status, content_type, body)
        statuses.add(status)
        if status in (200, 204) and wire.path in fz.SIGNED_ROUTES:
            through.append(wire.path)

    fuzz(fz.anything(), RUNS["anything"], check, *ODD_REQUESTS)
    assert {200, 403, 404, 405} <= statuses and through  # every kind of answer was reached


# -- the same over a real socket, to the webhook server the console runs ---------------------------


@pytest.fixture
def served(tmp_path, recorder) -> Iterator[int]:
    server = WebhookServer(fz.make_app(tmp_path, recorder))
    port = server.start()
    yield port
    server.stop()


def send_raw(port: int, wire: fz.Wire) -> tuple[int, str, bytes]:
    """Write the request byte for byte (nothing cleans it up on the way), read the answer."""
    head = f"{wire.method} {wire.target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in wire.headers)
    head += f"Content-Length: {len(wire.body)}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode("latin-1") + wire.body)
        response = http.client.HTTPResponse(sock, method=wire.method)
        response.begin()
        return response.status, response.getheader("Content-Type") or "", response.read()


def malformed_http(wire: fz.Wire) -> bool:
    """Whether HTTP/1.1 forbids these bytes where they stand, so a server answers 400 at once:
    a request target that is not visible ASCII, or a control character in a header value."""
    if any(not 0x21 <= ord(char) <= 0x7E for char in wire.target):
        return True
    values = "".join(value for _, value in wire.headers)
    return any((ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F for char in values)


over_http = st.one_of(
    fz.signed_outbound(), fz.signed_callback(), fz.signed_incoming(), fz.forged(), fz.anything()
)


def test_over_real_http(served, recorder):
    statuses: set[int] = set()

    def check(wire: fz.Wire) -> None:
        status, content_type, body = send_raw(served, wire)
        statuses.add(status)
        if status == 400 and malformed_http(wire):
            return  # the server refused it before the app saw it, as it should
        fz.check_answer(wire, status, content_type, body)

    odd_path = fz.Wire("POST", "//", "\x80", expect=UNSIGNED)
    too_long = fz.Wire("POST", "/voice/outbound", "x=" + "x" * 70_000, expect=UNSIGNED)
    fuzz(over_http, RUNS["over_http"], check, odd_path, too_long)
    # Signed ones served; forged ones refused; a URL past the header allowance refused by the
    # server (431: waitress counts the request line in the header block) before the app.
    assert {200, 204, 403, 431} <= statuses
