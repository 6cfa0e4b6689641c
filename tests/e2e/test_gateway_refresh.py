"""The room refresh: participant counts read side by side on one event loop, with retries."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from console.gateway import REFRESH_REQUESTS, Gateway, TwilioError
from console.twilio_http import make_client
from sandbox.ids import new_sid
from sandbox.models import Participant
from tests.bench.seeded_sandbox import seed
from tests.helpers.sandbox_faults import Sleeper

COUNTS = "/v1/Rooms/RM"  # the participant lists; the room list is /v1/Rooms


class InFlight:
    """Requests the sandbox is answering at this moment, and the most there ever were."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def wrap(self, app):
        def counting(environ, start_response):
            path = environ["PATH_INFO"]
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.counts[path] = self.counts.get(path, 0) + 1
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
