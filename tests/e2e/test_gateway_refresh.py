"""The room refresh: participant counts read side by side on one event loop, with retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cheroot import wsgi

from console.core.gateways.gateway import REFRESH_REQUESTS, Gateway, TwilioError
from console.core.gateways.twilio_http import make_client
from sandbox.app import create_sandbox_app
from sandbox.ids import new_sid
from sandbox.models import Participant
from tests.bench.seeded_sandbox import seed
from tests.helpers import wait_until
from tests.helpers.sandbox_faults import Sleeper

COUNTS = "/v1/Rooms/RM"  # the participant lists; the room list is /v1/Rooms


class InFlight:
    """Requests the sandbox is answering at this moment, and the most there ever were."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.counts: dict[str, int] = {}
        self.client_ports: set[str] = set()  # one for each connection the counts came over
        self.lock = threading.Lock()

    def wrap(self, app):
        def counting(environ, start_response):
            path = environ["PATH_INFO"]
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.counts[path] = self.counts.get(path, 0) + 1
                if path.startswith(COUNTS):
                    self.client_ports.add(environ["REMOTE_PORT"])
            try:
                return app(environ, start_response)
            finally:
                with self.lock:
                    self.now -= 1

        return counting


@pytest.fixture
def in_flight(sandbox_server) -> InFlight:
    record = InFlight()
    sandbox_server.app.wsgi_app = record.wrap(sandbox_server.app.wsgi_app)
    return record


def participants_path(room) -> str:
    return f"/v1/Rooms/{room.sid}/Participants"


def test_counts_are_read_side_by_side_up_to_the_limit(client, sandbox, faults, in_flight):
    seed(sandbox, rooms=40, people=3)
    faults.set(DelaySeconds=0.3, DelayShare=1, PathPrefix=COUNTS)
    rooms = Gateway(client).list_rooms()
    assert sorted(r.unique_name for r in rooms) == [f"Room-{n:03d}" for n in range(40)]
    assert {r.participant_count for r in rooms} == {3}
    assert in_flight.most == REFRESH_REQUESTS  # never more, and the limit was used


def test_each_room_gets_its_own_count(client, sandbox):
    seed(sandbox, rooms=3, people=0)
    for n, room in enumerate(sorted(sandbox.state.rooms.values(), key=lambda r: r.unique_name)):
        seed_people(sandbox, room.sid, n * 2)
    rooms = Gateway(client).list_rooms()
    assert {r.unique_name: r.participant_count for r in rooms} == {
        "Room-000": 0,
        "Room-001": 2,
        "Room-002": 4,
    }


def seed_people(sandbox, room_sid: str, people: int) -> None:
    now = datetime.now(UTC)
    for p in range(people):
        person = Participant(new_sid("PA"), room_sid, f"extra-{room_sid[-4:]}-{p}", now, now)
        sandbox.state.participants[person.sid] = person


def test_a_failed_count_is_retried(client, sandbox, faults, in_flight):
    seed(sandbox, rooms=3, people=2)
    faults.set(ErrorStatus=503, ErrorShare=1, PathPrefix=COUNTS)
    sleeper = Sleeper(then=faults.clear)
    rooms = Gateway(client, sleep=sleeper).list_rooms()
    assert [r.participant_count for r in rooms] == [2, 2, 2]
    assert sleeper.delays == [0.2, 0.2, 0.2]  # each room's first try failed, once
    assert [in_flight.counts[participants_path(r)] for r in rooms] == [2, 2, 2]


@pytest.mark.parametrize(
    ("status", "code", "delays"),
    [(503, 20503, [0.2, 0.4, 0.8]), (429, 20429, [0.2, 0.4, 0.8]), (401, 20003, [])],
)
def test_a_count_that_keeps_failing_fails_the_refresh(
    status, code, delays, client, sandbox, faults, in_flight
):
    seed(sandbox, rooms=1, people=2)
    faults.set(ErrorStatus=status, ErrorShare=1, PathPrefix=COUNTS)
    sleeper = Sleeper()
    with pytest.raises(TwilioError) as error:
        Gateway(client, sleep=sleeper).list_rooms()
    assert (error.value.status, error.value.code) == (status, code)
    assert "Injected fault" in str(error.value)
    assert sleeper.delays == delays  # a refusal (4xx but 429) is not retried
    (room,) = sandbox.state.rooms.values()
    assert in_flight.counts[participants_path(room)] == len(delays) + 1


def test_a_count_that_times_out_is_a_clear_error(sandbox, sandbox_server, faults, in_flight):
    seed(sandbox, rooms=1, people=2)
    faults.set(DelaySeconds=2, DelayShare=1, PathPrefix=COUNTS)  # > the client's 0.5 s timeout
    client = make_client(
        sandbox.account_sid, sandbox.auth_token, base_url=sandbox_server.url, timeout=0.5
    )
    sleeper = Sleeper()
    with pytest.raises(TwilioError, match="Could not reach Twilio") as error:
        Gateway(client, sleep=sleeper).list_rooms()
    assert sandbox.auth_token not in str(error.value)
    assert sleeper.delays == [0.2, 0.4, 0.8]
    (room,) = sandbox.state.rooms.values()
    assert in_flight.counts[participants_path(room)] == 4


def test_counts_with_an_api_key(sandbox, sandbox_server, in_flight):
    seed(sandbox, rooms=2, people=1)
    client = make_client(
        sandbox.api_key_sid,
        sandbox.api_key_secret,
        account_sid=sandbox.account_sid,
        base_url=sandbox_server.url,
    )
    rooms = Gateway(client).list_rooms()
    assert [r.participant_count for r in rooms] == [1, 1]


@pytest.fixture
def keep_alive_sandbox(sandbox) -> Iterator[tuple[str, InFlight]]:
    """The sandbox's app served by cheroot, which keeps connections open as Twilio does."""
    record = InFlight()
    server = wsgi.Server(("127.0.0.1", 0), record.wrap(create_sandbox_app(sandbox)), numthreads=20)
    server.keep_alive_conn_limit = 4 * REFRESH_REQUESTS  # cheroot's default of 10 would close some
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}", record
    finally:
        server.stop()
        thread.join(5)


def test_later_refreshes_reuse_the_connections(sandbox, keep_alive_sandbox):
    url, in_flight = keep_alive_sandbox
    seed(sandbox, rooms=REFRESH_REQUESTS * 2, people=1)
    gateway = Gateway(make_client(sandbox.account_sid, sandbox.auth_token, base_url=url))
    for _ in range(3):
        assert len(gateway.list_rooms()) == REFRESH_REQUESTS * 2
    assert sum(in_flight.counts.values()) == 3 * (1 + REFRESH_REQUESTS * 2)
    assert len(in_flight.client_ports) <= REFRESH_REQUESTS  # kept open from one to the next
    gateway.close()


def fanout_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "twilio-fanout"]


def test_close_ends_the_refresh_thread(client, sandbox):
    seed(sandbox, rooms=2, people=1)
    before = set(fanout_threads())
    gateway = Gateway(client)
    assert [r.participant_count for r in gateway.list_rooms()] == [1, 1]
    (thread,) = set(fanout_threads()) - before
    gateway.close()
    assert not thread.is_alive()
    gateway.close()  # a second close is harmless


def test_closing_during_a_refresh_ends_it_at_once(client, sandbox, faults, in_flight):
    seed(sandbox, rooms=1, people=1)
    faults.set(DelaySeconds=60, DelayShare=1, PathPrefix=COUNTS)
    gateway = Gateway(client)
    outcome: list[BaseException] = []

    def refresh() -> None:
        try:
            gateway.list_rooms()
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=refresh)
    worker.start()
    wait_until(lambda: in_flight.now == 1)  # the count is waiting on the slow sandbox
    gateway.close()
    worker.join(10)
    assert not worker.is_alive(), "the refresh still waits for its answer after close()"
    assert len(outcome) == 1 and not isinstance(outcome[0], TwilioError)
    with pytest.raises(RuntimeError, match="closed"):
        gateway.list_rooms()
