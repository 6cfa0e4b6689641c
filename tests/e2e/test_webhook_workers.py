"""`switchboard webhook --workers N`: worker processes share the port, all serve, die with it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
from urllib.parse import urlencode

import pytest

from tests.helpers import wait_until
from tests.helpers.proc_net import (
    HAS_PROC_NET,
    accepted_on,
    children,
    listening_on,
    listening_sockets_of,
)
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook.server import DEAD_PEER_SECONDS, listen

pytestmark = pytest.mark.skipif(not HAS_PROC_NET, reason="finds the workers through /proc")
TOKEN = "0123456789abcdef0123456789abcdef"
ROUTE = "/voice/outbound?" + urlencode({"room": "DailyStandup", "identity": "alice"})
FORM = {"CallSid": "CA" + "5" * 32, "CallStatus": "in-progress"}


def start(workers: int) -> tuple[RunningCommand, int]:
    command = RunningCommand(
        "webhook", "--port", "0", "--workers", str(workers), env={"TWILIO_AUTH_TOKEN": TOKEN}
    )
    try:
        ready = rf"listening on http://127\.0\.0\.1:(\d+) \({workers} (?:worker )?process"
        return command, int(command.wait_for_line(ready).group(1))
    except BaseException:
        command.process.kill()  # it would outlive the test otherwise
        raise


def workers_of(command: RunningCommand, port: int) -> set[int]:
    """The supervisor's children that listen on port: its workers."""
    return {
        pid
        for pid in children(command.process.pid)
        if ("127.0.0.1", port) in listening_sockets_of(pid)
    }


def two_workers(command: RunningCommand, port: int, timeout: float = 20) -> set[int]:
    """Wait until the supervisor has two workers listening; their process ids."""

    def found() -> set[int] | None:
        workers = workers_of(command, port)
        return workers if len(workers) == 2 else None

    return wait_until(found, timeout)


def ask(connection: http.client.HTTPConnection, port: int) -> None:
    """One signed answered-call request on connection, which stays open; it must join alice."""
    signature = twilio_signature(TOKEN, f"http://127.0.0.1:{port}{ROUTE}", FORM)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    connection.request("POST", ROUTE, urlencode(FORM), headers)
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, body
    assert room_of(parse_twiml(body)).attrib["participantIdentity"] == "alice"


def test_every_worker_takes_connections():
    command, port = start(2)
    connections: list[http.client.HTTPConnection] = []
    try:
        workers = two_workers(command, port)
        for _ in range(200):  # connections go to whichever worker accepts first
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connections.append(connection)
            ask(connection, port)
            if all(accepted_on(port, pid) for pid in workers):
                break
        held = {pid: accepted_on(port, pid) for pid in workers}
        assert all(held.values()), held
        assert sum(held.values()) == len(connections)  # and the supervisor holds none
    finally:
        for connection in connections:
            connection.close()
        assert command.terminate() == 0
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)


def test_a_worker_that_dies_is_replaced():
    command, port = start(2)
    try:
        first = two_workers(command, port)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        command.wait_for_line(rf"Worker \(pid:{victim}\) was sent SIGKILL")  # gunicorn's master
        now = two_workers(command, port, 30)
        assert victim not in now and len(now & first) == 1
        for _ in range(20):  # new connections: some reach the new worker, all are answered
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ask(connection, port)
            connection.close()
    finally:
        assert command.terminate() == 0


def test_workers_stop_when_the_supervisor_is_killed():
    command, port = start(2)
    workers = two_workers(command, port)
    command.process.kill()
    command.process.wait(10)
    wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in workers), 10)
    assert listening_on(port) == set()  # the port is free for the next start


def test_one_worker_serves_from_the_command_itself():
    command, port = start(1)
    try:
        assert workers_of(command, port) == set()
        assert ("127.0.0.1", port) in listening_sockets_of(command.process.pid)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        ask(connection, port)
        connection.close()
    finally:
        assert command.terminate() == 0


@pytest.mark.parametrize("count", ["0", "65", "two"])
def test_a_bad_worker_count_is_refused(count):
    command = RunningCommand("webhook", "--workers", count, env={"TWILIO_AUTH_TOKEN": TOKEN})
    command.wait_for_line(r"--workers")
    assert command.process.wait(10) == 2


def test_the_shared_socket_sends_small_answers_at_once():
    listener = listen("127.0.0.1", 0)
    try:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        # Accepted connections inherit TCP_NODELAY: no wait for the client's delayed ACK.
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        # and the time after which a peer that stopped acknowledging is dropped.
        wanted = DEAD_PEER_SECONDS * 1000
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == wanted
        accepted.close()
        client.close()
    finally:
        listener.close()
