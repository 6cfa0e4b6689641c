"""Hostile connections: 200 that send nothing, 50 that dribble headers and 50 that dribble bodies.

All 300 are held open at once (a byte a second on the dribbling ones) while signed requests go
to the webhook: each must be answered as Twilio needs it, well inside Twilio's 15 s. Both ways
the webhook runs are tried: `switchboard webhook` as a process (its default worker processes,
and one process), which must also stop on SIGTERM within 3 s with the connections still open;
and the webhook a console session runs on its own thread beside the sandbox, which must still
let a call the sandbox plays join its room. Latency figures belong to the benchmark
(tests/bench/webhook_bench.py), not here.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
import requests

from console.core.runtime import start_sandbox
from tests.helpers import wait_until
from tests.helpers.hostile_connections import HostileConnections
from tests.helpers.proc_net import HAS_PROC_NET, accepted_on, children, listening_on
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook.events import CallStatusEvent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_PROC_NET, reason="counts held connections through /proc"),
]
TOKEN = "4e6f7420612072656164792077656221"
TWILIO_WAITS = 15  # seconds Twilio waits for TwiML before the caller hears error 11200
SIGTERM_SECONDS = 3
DRIBBLE_ROUNDS = 3  # bytes each dribbling connection sends before the signed requests start
SIGNED_REQUESTS = 30


def hold(port: int, pids: Callable[[], list[int]]) -> HostileConnections:
    """Open the hostile connections to port and wait until the server's processes hold them all.

    The server must have accepted every one (not left them in the kernel's queue), and each
    dribbling one must have sent DRIBBLE_ROUNDS bytes, before the signed requests start.
    """
    hostile = HostileConnections("127.0.0.1", port)
    hostile.open()
    try:
        wait_until(lambda: sum(accepted_on(port, pid) for pid in pids()) >= hostile.total, 20)
        dribblers = hostile.headers + hostile.bodies
        wait_until(lambda: hostile.dribbled() >= DRIBBLE_ROUNDS * dribblers, 20)
    except BaseException:
        hostile.close()
        raise
    return hostile


def ask_signed(base_url: str, public_url: str, token: str, room: str) -> None:
    """Signed requests as Twilio sends them, each on a new connection: all answered in time."""
    for number in range(SIGNED_REQUESTS):
        route = "/voice/outbound?" + urlencode({"room": room, "identity": f"caller-{number}"})
        form = {"CallSid": f"CA{number:032d}", "CallStatus": "in-progress"}
        signature = twilio_signature(token, public_url + route, form)
        answer = requests.post(
            base_url + route,
            data=form,
            headers={"X-Twilio-Signature": signature, "Connection": "close"},
            timeout=TWILIO_WAITS,
        )
        assert answer.status_code == 200, answer.text
        joined = room_of(parse_twiml(answer.content))
        assert (joined.text, joined.attrib["participantIdentity"]) == (room, f"caller-{number}")
    health = requests.get(base_url + "/health", timeout=TWILIO_WAITS)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    route = "/voice/outbound?room=" + room
    unsigned = requests.post(base_url + route, data={"CallSid": "CA" + "0" * 32}, timeout=15)
    assert unsigned.status_code == 403  # and the signature check still holds


@pytest.mark.parametrize("workers", ["default", "1"])
def test_the_webhook_command_answers_and_stops_while_hostile_connections_are_held(workers):
    extra = () if workers == "default" else ("--workers", workers)
    command = RunningCommand(
        "webhook", "--port", "0", *extra, env={"TWILIO_AUTH_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    )
    try:
        url = command.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        port = int(url.rsplit(":", 1)[1])
        servers = lambda: [command.process.pid, *children(command.process.pid)]  # noqa: E731
        with hold(port, servers) as hostile:
            ask_signed(url, url, TOKEN, "DailyStandup")
            assert hostile.still_open() == hostile.total  # held all along, none cut to cope
            workers_seen = children(command.process.pid)
            command.process.send_signal(signal.SIGTERM)
            assert command.process.wait(SIGTERM_SECONDS) == 0, command.lines
    finally:
        if command.process.poll() is None:
            command.process.kill()
            command.process.wait(10)
    wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in workers_seen), 5)
    assert listening_on(port) == set()


def test_the_consoles_webhook_answers_and_lets_calls_join_while_hostile_connections_are_held():
    events: list[object] = []
    runtime = start_sandbox(events.append, webhook_port=0, ring_delay=0.05)
    try:
        hook = runtime.webhook
        token = runtime.gateway._client.password  # the sandbox's own auth token
        with hold(int(hook.port), lambda: [os.getpid()]) as hostile:
            ask_signed(hook.local_url, runtime.public_url, token, "DailyStandup")
            # A call the sandbox plays: it fetches the TwiML from this webhook over HTTP.
            room = runtime.gateway.create_room("Hostile")
            call = runtime.gateway.place_call(
                "+15551234567",
                "+15005550006",
                runtime.outbound_url("Hostile", "alice"),
                runtime.call_status_url,
                ["initiated", "ringing", "answered", "completed"],
            )
            joined = lambda: runtime.gateway.list_participants(room.sid)  # noqa: E731
            wait_until(lambda: [p.identity for p in joined()] == ["alice"], TWILIO_WAITS)
            heard = lambda: {  # noqa: E731
                (e.call_sid, e.status) for e in events if isinstance(e, CallStatusEvent)
            }
            wait_until(lambda: (call.sid, "in-progress") in heard(), TWILIO_WAITS)
            assert hostile.still_open() == hostile.total
            port = int(hook.port)
            hook.stop()
            assert listening_on(port) == set()  # stop() freed the port with the clients open
            wait_until(lambda: hostile.still_open() == 0, 5)  # and let go of every one
    finally:
        runtime.stop()
