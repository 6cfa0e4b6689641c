"""WebhookServer: an HTTP round trip, clean stop, loopback binding, a taken port, slow clients."""

import socket
import threading
import time

import pytest
import requests

from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook import PortInUse, WebhookServer, create_app
from webhook.server import THREADS

TOKEN = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def server():
    app = create_app({"AUTH_TOKEN": TOKEN})
    server = WebhookServer(app)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    yield server
    server.stop()


def test_signed_round_trip_over_http(server):
    route = "/voice/outbound?room=DailyStandup&identity=alice"
    form = {"CallSid": "CA" + "3" * 32, "From": "+15005550006"}
    signature = twilio_signature(TOKEN, server.local_url + route, form)
    response = requests.post(
        server.local_url + route, data=form, headers={"X-Twilio-Signature": signature}, timeout=5
    )
    assert response.status_code == 200
    room = room_of(parse_twiml(response.content))
    assert (room.text, room.attrib["participantIdentity"]) == ("DailyStandup", "alice")
    unsigned = requests.post(server.local_url + route, data=form, timeout=5)
    assert unsigned.status_code == 403


def test_binds_loopback_by_default(server):
    assert server.host == "127.0.0.1"
    assert server.local_url.startswith("http://127.0.0.1:")


def test_serves_on_its_own_threads(server):
    seen = []
    app = server.app

    @app.get("/thread-probe")
    def probe():
        seen.append(threading.current_thread())
        return "ok"

    assert requests.get(server.local_url + "/thread-probe", timeout=5).text == "ok"
    assert seen and seen[0] is not threading.current_thread()


def test_stop_frees_the_port_for_a_new_server():
    app = create_app({"AUTH_TOKEN": TOKEN})
    first = WebhookServer(app)
    port = first.start()
    requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
    first.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
    second = WebhookServer(app, port=port)
    assert second.start() == port
    second.stop()


def test_taken_port_raises_a_clear_error():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(PortInUse, match=f"Port {port} .* already in use"):
            WebhookServer(create_app({}), port=port).start()
    finally:
        holder.close()


def test_stop_is_idempotent_and_start_returns_same_port():
    server = WebhookServer(create_app({}))
    port = server.start()
    assert server.start() == port
    server.stop()
    server.stop()


def test_clients_that_send_nothing_or_stall_mid_request_do_not_hold_up_others(server):
    """Ten times more of them than worker threads: they wait on the event loop, not a thread."""
    address = ("127.0.0.1", server.port)
    stalled = [socket.create_connection(address, timeout=5) for _ in range(10 * THREADS)]
    try:
        for number, sock in enumerate(stalled):
            if number % 2:  # half send nothing; half stop mid-header or mid-body
                sock.sendall(b"POST /voice/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            else:
                sock.sendall(b"POST /voice/status HTTP/1.1\r\nContent-Length: 50\r\n\r\nCall")
        for _ in range(3):
            assert requests.get(server.local_url + "/health", timeout=5).status_code == 200
    finally:
        for sock in stalled:
            sock.close()


def test_stop_lets_an_answer_under_way_finish_and_drops_idle_clients():
    app = create_app({"AUTH_TOKEN": TOKEN})
    handling = threading.Event()

    @app.get("/slow")
    def slow():
        handling.set()
        time.sleep(0.2)  # a request the app is still working on when stop() is called
        return "done"

    server = WebhookServer(app)
    port = server.start()
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    answers: list[requests.Response] = []
    asking = threading.Thread(
        target=lambda: answers.append(requests.get(f"http://127.0.0.1:{port}/slow", timeout=5))
    )
    asking.start()
    try:
        assert handling.wait(5)
        server.stop()
        asking.join(5)
        assert [a.text for a in answers] == ["done"]
        assert idle.recv(1) == b""  # the idle client was let go: closed, not left hanging
    finally:
        idle.close()
