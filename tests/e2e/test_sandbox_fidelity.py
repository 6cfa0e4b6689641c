"""Twilio's documented behaviour, asked of the sandbox through the official twilio SDK.

The `client` fixture's HTTP client validates every response it gets, errors included, against
Twilio's OpenAPI descriptions (tests/helpers/openapi_check.py); the tests check that it ran.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Response
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse

from console.core.calls.dial_list import DialEntry, DialListRunner
from console.core.gateways.gateway import Gateway
from sandbox.clock import Clock
from sandbox.core import Sandbox
from tests.helpers import wait_until

START = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # the sandbox's clock starts here
DAY, NEXT_DAY = "2026-11-24", "2026-11-25"
MIDNIGHT = datetime(2026, 11, 25, tzinfo=UTC)
FROM = "+15005550006"
TO = "+15551234567"
BUSY, FAILS = "+15005550002", "+15005550004"
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The e2e sandbox (short ring, 4x clock) with its clock set to a known evening."""
    box = Sandbox(ring_delay=0.05, webhook_timeout=15.0, clock=Clock(speed=4.0, start=START))
    yield box
    box.close()


def hold(seconds: float = 60) -> str:
    """TwiML that keeps the callee on the line for a while, then hangs up."""
    response = VoiceResponse()
    response.pause(length=seconds)
    return str(response)


def join(client: Client, room: str, identity: str, **kwargs):
    """A call whose answer puts the callee into room as identity."""
    response, connect = VoiceResponse(), Connect()
    connect.room(room, participant_identity=identity)
    response.append(connect)
    return client.calls.create(to=TO, from_=FROM, twiml=str(response), **kwargs)


def refusal(client: Client, action: Callable[[], object]) -> tuple[int, int, str]:
    """(HTTP status, Twilio code, message) of a request that the SDK raised for."""
    with pytest.raises(TwilioException):
        action()
    answer = client.http_client.last_response
    body = json.loads(answer.text)
    return answer.status_code, body["code"], body["message"]


def settings(sandbox: Sandbox, server, **changes: object) -> dict:
    """The sandbox's /sandbox/Settings, changed first when changes are given."""
    auth = (sandbox.account_sid, sandbox.auth_token)
    url = f"{server.url}/sandbox/Settings"
    if changes:
        answer = requests.post(url, data=changes, auth=auth, timeout=5)
    else:
        answer = requests.get(url, auth=auth, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def status_of(client: Client, sid: str) -> str:
    return client.calls(sid).fetch().status


def test_unknown_resources_answer_20404_on_every_path(client, sandbox, response_log):
    room = client.video.v1.rooms.create(unique_name="Known")
    join(client, "Known", "alice")
    person = wait_until(lambda: client.video.v1.rooms(room.sid).participants.list())[0]
    rm, pa, ca, pn = (prefix + "0" * 32 for prefix in ("RM", "PA", "CA", "PN"))
    rooms, known = client.video.v1.rooms, client.video.v1.rooms(room.sid).participants
    account = f"/2010-04-01/Accounts/{sandbox.account_sid}"
    cases = [
        (lambda: rooms(rm).fetch(), f"/Rooms/{rm}"),
        (lambda: rooms("NoSuchRoom").fetch(), "/Rooms/NoSuchRoom"),
        (lambda: rooms(rm).update(status="completed"), f"/Rooms/{rm}"),
        (lambda: rooms(rm).participants.list(), f"/Rooms/{rm}/Participants"),
        (
            lambda: rooms(rm).participants(person.sid).fetch(),
            f"/Rooms/{rm}/Participants/{person.sid}",
        ),
        (lambda: known(pa).fetch(), f"/Rooms/{room.sid}/Participants/{pa}"),
        (lambda: known(pa).update(status="disconnected"), f"/Rooms/{room.sid}/Participants/{pa}"),
        (
            lambda: known(pa).subscribe_rules.fetch(),
            f"/Rooms/{room.sid}/Participants/{pa}/SubscribeRules",
        ),
        (lambda: rooms(rm).recordings.list(), f"/Rooms/{rm}/Recordings"),
        (lambda: client.calls(ca).fetch(), f"{account}/Calls/{ca}.json"),
        (lambda: client.calls(ca).update(status="completed"), f"{account}/Calls/{ca}.json"),
        (lambda: client.calls(ca).delete(), f"{account}/Calls/{ca}.json"),
        (
            lambda: client.incoming_phone_numbers(pn).fetch(),
            f"{account}/IncomingPhoneNumbers/{pn}.json",
        ),
        (
            lambda: client.incoming_phone_numbers(pn).update(voice_url="http://127.0.0.1:9/v"),
            f"{account}/IncomingPhoneNumbers/{pn}.json",
        ),
    ]
    for action, path in cases:
        expected = (404, 20404, f"The requested resource {path} was not found")
        assert refusal(client, action) == expected
    # The same paths answer for what exists.
    assert known(person.sid).subscribe_rules.fetch().rules[0]["all"] is True
    assert rooms(room.sid).recordings.list() == []
    assert sum(status == 404 for _, _, status in response_log.checked) == len(cases)


def test_list_filters_take_dates_and_date_times(client, sandbox):
    early = client.video.v1.rooms.create(unique_name="Early")
    first, failed_early = (
        join(client, "Early", "first"),
        client.calls.create(to=FAILS, from_=FROM, twiml=hold()),
    )
    wait_until(lambda: status_of(client, failed_early.sid) == "failed")
    wait_until(lambda: status_of(client, first.sid) == "in-progress")
    sandbox.clock.advance(4 * 3600)  # 02:00 the next day
    client.video.v1.rooms.create(unique_name="Late")
    failed_late = client.calls.create(to=FAILS, from_=FROM, twiml=hold())
    second = join(client, "Early", "second")
    wait_until(lambda: status_of(client, failed_late.sid) == "failed")
    wait_until(lambda: len(client.video.v1.rooms(early.sid).participants.list()) == 2)

    def names(found) -> list[str]:
        return sorted(r.unique_name for r in found)

    rooms = client.video.v1.rooms
    assert names(rooms.list(date_created_after=NEXT_DAY)) == ["Late"]
    assert names(rooms.list(date_created_before=NEXT_DAY)) == ["Early"]
    assert names(rooms.list(date_created_after=MIDNIGHT)) == ["Late"]  # sent as …T00:00:00Z
    assert names(rooms.list(date_created_before="2026-11-25T01:00:00+02:00")) == ["Early"]
    assert names(rooms.list(unique_name="Late")) == ["Late"]

    def identities(found) -> list[str]:
        return sorted(p.identity for p in found)

    people = rooms(early.sid).participants
    assert identities(people.list(date_created_after=NEXT_DAY)) == ["second"]
    assert identities(people.list(date_created_before=MIDNIGHT)) == ["first"]
    assert identities(people.list(identity="first")) == ["first"]

    def sids(found) -> set[str]:
        return {c.sid for c in found}

    calls = client.calls
    evening, night = {first.sid, failed_early.sid}, {failed_late.sid, second.sid}
    assert sids(calls.list(start_time=DAY)) == evening
    assert sids(calls.list(start_time=NEXT_DAY)) == night
    assert sids(calls.list(start_time=MIDNIGHT)) == night  # a date-time: that UTC day
    assert sids(calls.list(start_time_before=NEXT_DAY)) == evening
    assert sids(calls.list(start_time_after=NEXT_DAY)) == night
    late_start = calls(failed_late.sid).fetch().start_time
    assert sids(calls.list(start_time_after=late_start)) == night  # "on or after"
    assert sids(calls.list(start_time_before=late_start)) == evening
    # Live calls have not ended, so only the failed ones have an end time.
    assert sids(calls.list(end_time=DAY)) == {failed_early.sid}
    assert sids(calls.list(end_time=NEXT_DAY)) == {failed_late.sid}
    assert sids(calls.list(end_time_before="2026-11-25T00:00:00Z")) == {failed_early.sid}
    assert sids(calls.list(end_time_after=NEXT_DAY)) == {failed_late.sid}
    assert calls.list(parent_call_sid=first.sid) == []  # no call here spawned another


def test_a_filter_value_that_does_not_parse_is_twilios_400(client):
    people = client.video.v1.rooms(client.video.v1.rooms.create(unique_name="R").sid).participants
    cases = [
        (lambda: client.calls.list(start_time="yesterday"), "StartTime"),
        (lambda: client.calls.list(start_time_after="24/11/2026"), "StartTime>"),
        (lambda: client.calls.list(end_time_before="2026-13-01"), "EndTime<"),
        (lambda: client.video.v1.rooms.list(date_created_after="2026-11-24T25:00Z"), None),
        (lambda: people.list(date_created_before="soon"), None),
    ]
    for action, name in cases:
        status, code, message = refusal(client, action)
        assert (status, code) == (400, 20001)
        assert message.startswith(f"Invalid {name or 'DateCreated'}")


def test_updates_answer_with_the_new_state(client, sandbox, sandbox_server, response_log):
    room = client.video.v1.rooms.create(unique_name="R")
    join(client, "R", "alice")
    wait_until(lambda: client.video.v1.rooms(room.sid).participants.list())
    alice = client.video.v1.rooms(room.sid).participants("alice").update(status="disconnected")
    assert alice.status == "disconnected" and alice.end_time is not None
    ended = client.video.v1.rooms(room.sid).update(status="completed")
    assert ended.status == "completed" and ended.end_time is not None
    posted = [(path, status) for method, path, status in response_log.checked if method == "POST"]
    assert (f"/v1/Rooms/{room.sid}", 202) in posted
    assert (f"/v1/Rooms/{room.sid}/Participants/alice", 202) in posted

    live = client.calls.create(to=TO, from_=FROM, twiml=hold())
    wait_until(lambda: status_of(client, live.sid) == "in-progress")
    untouched = client.calls(live.sid).update(status="canceled")  # only stops unanswered calls
    assert (untouched.status, untouched.end_time) == ("in-progress", None)
    hung_up = client.calls(live.sid).update(status="completed")
    assert hung_up.status == "completed" and hung_up.end_time is not None
    assert hung_up.duration is not None
    assert client.calls(live.sid).fetch().duration == hung_up.duration

    sandbox.ring_delay = 60
    ringing = client.calls.create(to=TO, from_=FROM, twiml=hold())
    wait_until(lambda: status_of(client, ringing.sid) == "ringing")
    canceled = client.calls(ringing.sid).update(status="canceled")
    assert (canceled.status, canceled.duration) == ("canceled", None)
    assert canceled.end_time is not None

    settings(sandbox, sandbox_server, CallsPerSecond="0.01")  # one call every 100 s
    queued = [client.calls.create(to=TO, from_=FROM, twiml=hold()) for _ in range(2)]
    assert [status_of(client, c.sid) for c in queued] == ["queued", "queued"]
    dropped = client.calls(queued[0].sid).update(status="canceled")
    ended_early = client.calls(queued[1].sid).update(status="completed")  # never rang: canceled
    for answer in (dropped, ended_early):
        assert (answer.status, answer.start_time, answer.duration) == ("canceled", None, None)
    assert sandbox.call_queue.waiting() == []


def test_deleting_a_call_forgets_it(client, sandbox, response_log):
    failed = client.calls.create(to=FAILS, from_=FROM, twiml=hold())
    live = client.calls.create(to=TO, from_=FROM, twiml=hold())
    wait_until(lambda: status_of(client, failed.sid) == "failed")
    assert refusal(client, lambda: client.calls(live.sid).delete())[:2] == (400, 20009)
    assert client.calls(failed.sid).delete() is True
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls/{failed.sid}.json"
    assert ("DELETE", path, 204) in response_log.checked
    assert refusal(client, lambda: client.calls(failed.sid).fetch())[:2] == (404, 20404)
    assert refusal(client, lambda: client.calls(failed.sid).delete())[:2] == (404, 20404)
    assert [c.sid for c in client.calls.list()] == [live.sid]


def test_durations_agree_between_rest_and_the_final_callback(client, sandbox, scripted):
    sandbox.ring_delay = 4.0  # simulated seconds of ringing, which no duration counts
    scripted.answers["/status"] = lambda: Response(status=204)
    callback = f"{scripted.url}/status"
    busy = client.calls.create(to=BUSY, from_=FROM, twiml=hold(), status_callback=callback)
    short = client.calls.create(to=TO, from_=FROM, twiml=hold(2), status_callback=callback)
    finals = wait_until(lambda: len(scripted.requests_to("/status")) == 2 and scripted.requests)
    sent = {r["form"]["CallSid"]: r["form"] for r in finals if r["path"] == "/status"}
    assert all(r["signed"] for r in finals)
    assert sent[busy.sid]["CallStatus"] == "busy" and "CallDuration" not in sent[busy.sid]
    assert client.calls(busy.sid).fetch().duration is None  # never connected: no duration
    done = client.calls(short.sid).fetch()
    assert done.status == "completed"
    assert done.duration == sent[short.sid]["CallDuration"]
    assert 2 <= int(done.duration) <= 3  # from the answer: the 2 s pause, not the ring


def test_bad_room_input_is_refused_with_twilios_codes(client):
    rooms = client.video.v1.rooms
    assert refusal(client, lambda: rooms.create(unique_name="A", status_callback="notaurl"))[
        :2
    ] == (400, 53111)
    assert refusal(client, lambda: rooms.create(status_callback_method="PUT"))[:2] == (400, 53110)
    assert refusal(client, lambda: rooms.create(type="huge"))[:2] == (400, 53108)
    not_utf8 = "Café".encode("latin-1")  # the SDK sends bytes as they are
    assert refusal(client, lambda: rooms.create(unique_name=not_utf8))[:2] == (400, 53102)
    assert rooms.list() == []  # refused, not created under a mangled or empty name
    assert rooms.create(unique_name="Café").unique_name == "Café"


def test_connections_are_kept_alive(client, sandbox_server):
    for _ in range(4):
        client.video.v1.rooms.list()
    client.calls.list()
    pools = client.http_client.session.get_adapter(sandbox_server.url).poolmanager.pools
    keys = pools.keys()  # urllib3's pool container cannot be iterated itself
    counts = [(pools[key].num_connections, pools[key].num_requests) for key in keys]
    assert counts == [(1, 5)]  # five requests, one connection
    raw = http.client.HTTPConnection("127.0.0.1", sandbox_server.port, timeout=5)
    sockets = []
    for _ in range(2):
        raw.request("GET", "/sandbox/Health")
        answer = raw.getresponse()
        answer.read()
        sockets.append(raw.sock)
        assert answer.status == 200 and answer.getheader("Connection", "") != "close"
    assert sockets[0] is sockets[1] and sockets[0] is not None
    raw.close()


def test_calls_beyond_the_cps_wait_in_line_and_start_in_order(
    client, sandbox, sandbox_server, scripted
):
    assert settings(sandbox, sandbox_server)["calls_per_second"] == 1.0  # Twilio's default
    settings(sandbox, sandbox_server, CallsPerSecond="0.5")  # a call every 2 simulated seconds
    scripted.answers["/status"] = lambda: Response(status=204)
    placed = [
        client.calls.create(
            to=TO,
            from_=FROM,
            twiml=hold(),
            status_callback=f"{scripted.url}/status",
            status_callback_event=["initiated"],
        )
        for _ in range(3)
    ]
    assert [c.status for c in placed] == ["queued"] * 3
    waits = [int(c.queue_time) for c in placed]
    assert waits[0] < waits[1] < waits[2] and 1000 < waits[2] - waits[1] <= 2000  # estimates
    last = client.calls(placed[2].sid).fetch()
    assert (last.status, last.start_time) == ("queued", None)
    initiated = wait_until(lambda: len(scripted.requests_to("/status")) == 3 and scripted.requests)
    assert [r["form"]["CallSid"] for r in initiated] == [c.sid for c in placed]  # in order
    starts = [client.calls(c.sid).fetch().start_time for c in placed]
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(starts))

    settings(sandbox, sandbox_server, CallsPerSecond="100")
    quick = [client.calls.create(to=TO, from_=FROM, twiml=hold()) for _ in range(3)]
    assert all(int(c.queue_time) <= 30 for c in quick)  # 10 ms apart at most, by the estimate
    wait_until(lambda: all(status_of(client, c.sid) == "in-progress" for c in quick))


@pytest.mark.parametrize(("pace", "queues"), [(1.0, False), (10.0, True)])
def test_dial_list_pacing_meets_the_cps_queue(
    client, sandbox, sandbox_server, scripted, pace, queues
):
    settings(sandbox, sandbox_server, ClockSpeed="1")  # the queue counts real seconds
    bye = VoiceResponse()
    bye.hangup()
    scripted.answers["/bye"] = lambda: Response(str(bye), mimetype="text/xml")
    gateway = Gateway(client)

    def place(entry: DialEntry):
        return gateway.place_call(entry.to, FROM, f"{scripted.url}/bye", "", [])

    entries = [DialEntry(n, f"+1555123000{n}", f"p{n}") for n in range(1, 4)]
    states = DialListRunner(entries, place, calls_per_second=pace).run()
    waits = [int(client.calls(s.call_sid).fetch().queue_time) for s in states]
    if queues:  # paced faster than the account's 1 CPS: Twilio holds the calls back
        assert waits[1] >= 600 and waits[2] >= waits[1] + 600
    else:  # the console's default pacing: no call waits beyond network and thread jitter
        assert max(waits) < 400
    wait_until(lambda: all(status_of(client, s.call_sid) in FINAL for s in states), timeout=8)


def test_a_calls_errors_are_its_notifications(client, sandbox, scripted, response_log):
    """A webhook that answers 500 is error 11200, logged on the call as Twilio logs it."""
    scripted.answers["/voice"] = lambda: Response("boom", status=500)
    call = client.calls.create(to=TO, from_=FROM, url=f"{scripted.url}/voice")
    wait_until(lambda: status_of(client, call.sid) in FINAL)
    notes = wait_until(lambda: client.calls(call.sid).notifications.list())
    (note,) = notes
    assert (note.error_code, note.log, note.call_sid) == ("11200", "0", call.sid)
    assert note.sid.startswith("NO") and len(note.sid) == 34
    assert "Msg=" in note.message_text
    assert note.request_url == f"{scripted.url}/voice"
    assert note.more_info == "https://www.twilio.com/docs/errors/11200"
    assert client.calls(call.sid).notifications.list(log=1) == []
    quiet = join(client, "Quiet", "amy")
    assert client.calls(quiet.sid).notifications.list() == []
    status, code, _ = refusal(client, lambda: client.calls("CA" + "0" * 32).notifications.list())
    assert (status, code) == (404, 20404)
    checked = [(path, status) for _, path, status in response_log.checked]
    assert sum(path.endswith("/Notifications.json") for path, _ in checked) >= 4
