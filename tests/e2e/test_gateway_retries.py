"""Gateway safety against the sandbox's faults: reads retry with backoff, a create is sent once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from console.core.gateways.gateway import Gateway, TwilioError
from console.core.gateways.twilio_http import make_client
from tests.helpers import wait_until
from tests.helpers.sandbox_faults import Sleeper

EVENTS = ["initiated", "ringing", "answered", "completed"]
FROM = "+15005550006"


@dataclass
class Seen:
    """Every request the sandbox received, as (method, path), when it arrived and when done."""

    started: list[tuple[str, str]] = field(default_factory=list)
    finished: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return self.started.count((method, path))

    def done(self, method: str, path: str) -> bool:
        with self.lock:
            return (method, path) in self.finished


@pytest.fixture
def seen(sandbox_server) -> Seen:
    """Counts requests at the sandbox itself, in front of its Flask app."""
    record = Seen()
    inner = sandbox_server.app.wsgi_app

    def counting(environ, start_response):
        key = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        with record.lock:
            record.started.append(key)
        try:
            return inner(environ, start_response)
        finally:
            with record.lock:
                record.finished.append(key)

    sandbox_server.app.wsgi_app = counting
    return record


def calls_path(sandbox) -> str:
    return f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls.json"


def place(gateway: Gateway, webhook, to: str):
    url = f"{webhook.url}/voice/outbound?room=R&identity=x"
    return gateway.place_call(to, FROM, url, f"{webhook.url}/voice/status", EVENTS)


@dataclass
class Read:
    """One read method, how to call it, and the path its first request goes to."""

    call: Callable[[Gateway, dict], object]
    path: Callable[[object, dict], str]


READS = {
    "list_rooms": Read(lambda g, c: g.list_rooms(), lambda s, c: "/v1/Rooms"),
    "find_room": Read(lambda g, c: g.find_room("R"), lambda s, c: "/v1/Rooms"),
    "list_participants": Read(
        lambda g, c: g.list_participants(c["room"].sid),
        lambda s, c: f"/v1/Rooms/{c['room'].sid}/Participants",
    ),
    "list_numbers": Read(
        lambda g, c: g.list_numbers(),
        lambda s, c: f"/2010-04-01/Accounts/{s.account_sid}/IncomingPhoneNumbers.json",
    ),
    "check_credentials": Read(
        lambda g, c: g.check_credentials(),
        lambda s, c: f"/2010-04-01/Accounts/{s.account_sid}.json",
    ),
    "list_calls": Read(lambda g, c: g.list_calls(to="+15551230000"), lambda s, c: calls_path(s)),
    "fetch_call": Read(
        lambda g, c: g.fetch_call(c["call"].sid),
        lambda s, c: f"/2010-04-01/Accounts/{s.account_sid}/Calls/{c['call'].sid}.json",
    ),
}


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize("name", sorted(READS))
def test_reads_retry_after_429_and_5xx(name, status, client, sandbox, webhook, faults, seen):
    context = {"room": Gateway(client).create_room("R")}
    context["call"] = place(Gateway(client), webhook, "+15551230000")
    expected = READS[name].call(Gateway(client), context)
    faults.set(ErrorStatus=status, ErrorShare=1)
    sleeper = Sleeper(then=faults.clear)
    path = READS[name].path(sandbox, context)
    before = seen.count("GET", path)
    result = READS[name].call(Gateway(client, sleep=sleeper), context)
    assert sleeper.delays == [0.2]
    assert seen.count("GET", path) - before == 2
    if name not in ("list_calls", "fetch_call", "list_rooms", "list_participants"):
        assert result == expected  # (calls and rooms move on: compare what does not)
    assert result is not None


def test_reads_give_up_after_backing_off_three_times(client, sandbox, faults, seen):
    faults.set(ErrorStatus=503, ErrorShare=1)
    sleeper = Sleeper()
    with pytest.raises(TwilioError) as error:
        Gateway(client, sleep=sleeper).list_numbers()
    assert (error.value.status, error.value.code) == (503, 20503)
    assert "Injected fault" in str(error.value)
    assert sleeper.delays == [0.2, 0.4, 0.8]
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json"
    assert seen.count("GET", path) == 4


def test_reads_ride_out_a_share_of_failures(client, sandbox, faults, seen):
    faults.set(ErrorStatus=503, ErrorShare=0.3, Seed=11)
    sleeper = Sleeper()
    gateway = Gateway(client, sleep=sleeper)
    results = [{n.number for n in gateway.list_numbers()} for _ in range(30)]
    assert all(result == {"+15005550006", "+15005550007"} for result in results)
    assert sleeper.delays  # some requests failed and were retried
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json"
    assert seen.count("GET", path) == 30 + len(sleeper.delays)


def test_a_client_error_is_not_retried(client, sandbox, seen):
    sleeper = Sleeper()
    with pytest.raises(TwilioError) as error:
        Gateway(client, sleep=sleeper).fetch_call("CA" + "0" * 32)
    assert (error.value.status, error.value.code) == (404, 20404)
    assert sleeper.delays == []


def test_an_error_listing_a_page_is_typed(sandbox, sandbox_server):
    wrong = Gateway(make_client(sandbox.account_sid, "0" * 32, base_url=sandbox_server.url))
    with pytest.raises(TwilioError) as error:
        wrong.list_rooms()
    assert (error.value.status, error.value.code) == (401, 20003)


WRITES = {
    "create_room": (lambda g, c: g.create_room("Fresh"), "POST", lambda s, c: "/v1/Rooms"),
    "end_room": (
        lambda g, c: g.end_room(c["room"].sid),
        "POST",
        lambda s, c: f"/v1/Rooms/{c['room'].sid}",
    ),
    "hang_up": (
        lambda g, c: g.hang_up(c["call"].sid),
        "POST",
        lambda s, c: f"/2010-04-01/Accounts/{s.account_sid}/Calls/{c['call'].sid}.json",
    ),
    "place_call": (
        lambda g, c: place(g, c["webhook"], "+15551239999"),
        "POST",
        lambda s, c: calls_path(s),
    ),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_are_never_retried(name, client, sandbox, webhook, faults, seen):
    context = {"room": Gateway(client).create_room("R"), "webhook": webhook}
    context["call"] = place(Gateway(client), webhook, "+15551230000")
    act, method, path = WRITES[name]
    before = seen.count(method, path(sandbox, context))
    faults.set(ErrorStatus=503, ErrorShare=1)
    sleeper = Sleeper()
    with pytest.raises(TwilioError) as error:
        act(Gateway(client, sleep=sleeper), context)
    assert error.value.code == 20503
    assert seen.count(method, path(sandbox, context)) - before == 1
    assert sleeper.delays == []
    assert seen.count("GET", calls_path(sandbox)) == 0  # a 503 is a refusal: no reconciling


def slow_gateway(sandbox, sandbox_server, sleeper) -> Gateway:
    """A gateway whose requests give up after 0.5 s, on the sandbox's clock."""
    client = make_client(
        sandbox.account_sid, sandbox.auth_token, base_url=sandbox_server.url, timeout=0.5
    )
    return Gateway(client, sleep=sleeper, clock=sandbox.clock.now)


def test_a_create_that_times_out_is_found_by_listing_not_sent_again(
    sandbox, sandbox_server, webhook, faults, seen
):
    path = calls_path(sandbox)
    faults.set(DelaySeconds=2, DelayShare=1, PathPrefix=path)  # > the client's 0.5 s timeout

    def recovered() -> None:  # the slow create has been handled; the network is fine again
        wait_until(lambda: seen.done("POST", path), timeout=10)
        faults.clear()

    sleeper = Sleeper(then=recovered)
    call = place(slow_gateway(sandbox, sandbox_server, sleeper), webhook, "+15551110001")
    assert seen.count("POST", path) == 1
    (created,) = list(sandbox.state.calls.values())
    assert (call.sid, call.to, call.from_) == (created.sid, "+15551110001", FROM)
    assert sleeper.delays == [0.2]  # the first listing timed out too, and was retried


def test_a_create_that_times_out_and_is_not_found_is_an_unknown_outcome(
    sandbox, sandbox_server, webhook, faults, seen
):
    path = calls_path(sandbox)
    faults.set(DelaySeconds=2, DelayShare=1, ErrorStatus=500, ErrorShare=1, PathPrefix=path)

    def recovered() -> None:
        wait_until(lambda: seen.done("POST", path), timeout=10)
        faults.clear()

    sleeper = Sleeper(then=recovered)
    with pytest.raises(TwilioError) as error:
        place(slow_gateway(sandbox, sandbox_server, sleeper), webhook, "+15551110002")
    message = str(error.value)
    assert "outcome is unknown" in message
    assert "+15551110002" in message and FROM in message and "call log" in message
    assert "ReadTimeout" in message
    assert seen.count("POST", path) == 1
    assert sandbox.state.calls == {}
    assert sleeper.delays == [0.2, 1.0, 2.0, 4.0]


def test_a_gateway_timeout_answer_is_reconciled_too(client, sandbox, webhook, faults, seen):
    path = calls_path(sandbox)
    faults.set(ErrorStatus=504, ErrorShare=1, PathPrefix=path)
    sleeper = Sleeper(then=faults.clear)
    with pytest.raises(TwilioError, match="outcome is unknown"):
        place(Gateway(client, sleep=sleeper, clock=sandbox.clock.now), webhook, "+15551110003")
    assert seen.count("POST", path) == 1
    assert seen.count("GET", path) == 5  # one failed listing, retried, then 3 more
    assert sleeper.delays == [0.2, 1.0, 2.0, 4.0]


def test_reconciling_skips_our_own_calls_and_refuses_to_guess(
    client, sandbox, sandbox_server, webhook, faults, seen
):
    path = calls_path(sandbox)
    ours = slow_gateway(sandbox, sandbox_server, Sleeper())
    first = place(ours, webhook, "+15551110004")  # placed by this gateway: never "the lost one"
    faults.set(DelaySeconds=2, DelayShare=1, PathPrefix=path)

    def recovered() -> None:
        wait_until(lambda: len(sandbox.state.calls) == 2, timeout=10)
        faults.clear()

    ours._sleep = Sleeper(then=recovered)
    second = place(ours, webhook, "+15551110004")
    assert second.sid != first.sid
    assert set(sandbox.state.calls) == {first.sid, second.sid}

    place(Gateway(client), webhook, "+15551110005")  # someone else dials the same number
    faults.set(DelaySeconds=2, DelayShare=1, PathPrefix=path)
    posts = seen.count("POST", path)

    def both_there() -> None:
        wait_until(lambda: len(sandbox.state.calls) == 4, timeout=10)
        faults.clear()

    ours._sleep = Sleeper(then=both_there)
    with pytest.raises(TwilioError, match="2 calls from") as error:
        place(ours, webhook, "+15551110005")
    assert "Check which is yours" in str(error.value)
    assert seen.count("POST", path) == posts + 1


def test_a_refused_connection_means_the_call_was_not_placed():
    sleeper = Sleeper()
    gateway = Gateway(make_client("AC" + "0" * 32, "0" * 32, base_url="http://127.0.0.1:9"))
    gateway._sleep = sleeper
    with pytest.raises(TwilioError, match=r"Could not reach Twilio at 127\.0\.0\.1:9"):
        gateway.place_call("+15551234567", FROM, "http://127.0.0.1:1/x", "", EVENTS)
    assert sleeper.delays == []  # nothing was sent, so there is nothing to reconcile


def test_a_closed_gateway_gives_up_instead_of_retrying(client, sandbox, faults, seen):
    """At shutdown the gateway is closed: a read still failing is not tried again."""
    faults.set(ErrorStatus=503, ErrorShare=1.0)
    gateway = Gateway(client)  # the real wait between tries, which closing ends
    waiting = threading.Thread(target=lambda: gateway._sleep(30), daemon=True)
    waiting.start()
    gateway.close()
    waiting.join(2)
    assert not waiting.is_alive()  # a wait between tries ends when the gateway closes
    with pytest.raises(TwilioError) as raised:
        gateway.list_numbers()
    assert raised.value.status == 503
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/IncomingPhoneNumbers.json"
    assert seen.count("GET", path) == 1
