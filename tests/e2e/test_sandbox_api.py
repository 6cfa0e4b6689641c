"""The REST surface through the official SDK: auth, paging, numbers, controls and faults."""

from __future__ import annotations

import time

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.helpers import wait_until
from tests.helpers.openapi_check import ValidatingHttpClient, check_requests_response


def test_wrong_credentials_get_401_with_20003(sandbox, sandbox_server):
    for auth in [(sandbox.account_sid, "0" * 32), ("AC" + "1" * 32, sandbox.auth_token), None]:
        answer = requests.get(f"{sandbox_server.url}/v1/Rooms", auth=auth, timeout=5)
        assert answer.status_code == 401
        assert check_requests_response(answer).json()["code"] == 20003
    bad = Client(
        sandbox.account_sid, "f" * 32, http_client=ValidatingHttpClient(sandbox_server.url)
    )
    with pytest.raises(TwilioRestException) as refused:
        bad.video.v1.rooms("Anything").fetch()
    assert (refused.value.status, refused.value.code) == (401, 20003)


def test_api_key_and_secret_are_accepted(sandbox, sandbox_server):
    keyed = Client(
        sandbox.api_key_sid,
        sandbox.api_key_secret,
        account_sid=sandbox.account_sid,
        http_client=ValidatingHttpClient(sandbox_server.url),
    )
    assert keyed.api.v2010.accounts(sandbox.account_sid).fetch().status == "active"
    assert keyed.video.v1.rooms.create(unique_name="Keyed").unique_name == "Keyed"


def test_rooms_page_and_filter(client):
    for index in range(5):
        client.video.v1.rooms.create(unique_name=f"Room{index}")
    client.video.v1.rooms("Room0").update(status="completed")
    page = client.video.v1.rooms.page(page_size=2)
    assert len(list(page)) == 2 and page.next_page_url is not None
    streamed = list(client.video.v1.rooms.stream(page_size=2))
    assert sorted(r.unique_name for r in streamed) == ["Room1", "Room2", "Room3", "Room4"]
    done = client.video.v1.rooms.list(status="completed")
    assert [r.unique_name for r in done] == ["Room0"]
    assert [r.unique_name for r in client.video.v1.rooms.list(unique_name="Room3")] == ["Room3"]
    # A completed room's name is free again.
    assert client.video.v1.rooms.create(unique_name="Room0").status == "in-progress"


def test_calls_page_and_filter(client, webhook):
    for _ in range(3):
        client.calls.create(
            to="+15005550004", from_="+15005550007", url=f"{webhook.url}/voice/outbound"
        )
    wait_until(lambda: len(client.calls.list(status="failed")) == 3)
    assert len(list(client.calls.stream(page_size=2))) == 3
    assert client.calls.list(to="+15550000000") == []
    assert len(client.calls.list(from_="+15005550007")) == 3


def test_account_numbers_and_caller_ids(client, sandbox):
    account = client.api.v2010.accounts(sandbox.account_sid).fetch()
    assert account.sid == sandbox.account_sid and account.status == "active"
    numbers = client.incoming_phone_numbers.list()
    assert sorted(n.phone_number for n in numbers) == ["+15005550006", "+15005550007"]
    updated = client.incoming_phone_numbers(numbers[0].sid).update(
        voice_url="http://127.0.0.1:9/voice/incoming", voice_method="GET"
    )
    assert (updated.voice_url, updated.voice_method) == ("http://127.0.0.1:9/voice/incoming", "GET")
    assert client.incoming_phone_numbers(numbers[0].sid).fetch().voice_method == "GET"
    assert [c.phone_number for c in client.outgoing_caller_ids.list()] == ["+15005550009"]
    with pytest.raises(TwilioRestException) as other:
        client.api.v2010.accounts("AC" + "2" * 32).calls("CA" + "3" * 32).fetch()
    assert (other.value.status, other.value.code) == (404, 20404)


def test_incoming_call_joins_the_default_room(client, webhook, sandbox, sandbox_server):
    client.video.v1.rooms.create(unique_name="Lobby")
    number = client.incoming_phone_numbers.list(phone_number="+15005550006")[0]
    client.incoming_phone_numbers(number.sid).update(voice_url=f"{webhook.url}/voice/incoming")
    answer = requests.post(
        f"{sandbox_server.url}/sandbox/IncomingCalls",
        data={"From": "+15557654321", "To": "+15005550006"},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    assert answer.status_code == 201
    call = answer.json()
    assert call["direction"] == "inbound" and call["phone_number_sid"] == number.sid
    people = wait_until(lambda: client.video.v1.rooms("Lobby").participants.list())
    assert people[0].identity
    assert client.calls(call["sid"]).fetch().status == "in-progress"


def test_incoming_call_body_matches_the_calls_schema(sandbox, sandbox_server, client, webhook):
    from tests.helpers.openapi_check import check_response

    number = client.incoming_phone_numbers.list(phone_number="+15005550007")[0]
    client.incoming_phone_numbers(number.sid).update(voice_url=f"{webhook.url}/voice/incoming")
    answer = requests.post(
        f"{sandbox_server.url}/sandbox/IncomingCalls",
        data={"From": "+15557654321", "To": "+15005550007"},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    path = f"/2010-04-01/Accounts/{sandbox.account_sid}/Calls.json"
    check_response("POST", path, answer.status_code, answer.content, answer.headers["Content-Type"])


def test_faults_and_latency_can_be_injected(client, sandbox, sandbox_server):
    auth = (sandbox.account_sid, sandbox.auth_token)
    plan = requests.post(
        f"{sandbox_server.url}/sandbox/Faults",
        data={"ErrorStatus": "503", "ErrorShare": "1", "PathPrefix": "/v1/"},
        auth=auth,
        timeout=5,
    )
    assert plan.json()["error_share"] == 1.0
    with pytest.raises(TwilioRestException) as failed:
        client.video.v1.rooms.create(unique_name="Unlucky")
    assert (failed.value.status, failed.value.code) == (503, 20503)
    assert client.calls.list() == []  # other paths are untouched
    requests.post(
        f"{sandbox_server.url}/sandbox/Faults",
        data={"DelaySeconds": "0.3", "DelayShare": "1", "Seed": "7"},
        auth=auth,
        timeout=5,
    )
    started = time.monotonic()
    client.video.v1.rooms.list()
    assert time.monotonic() - started >= 0.3
    assert requests.delete(f"{sandbox_server.url}/sandbox/Faults", auth=auth, timeout=5).ok
    assert (
        requests.get(f"{sandbox_server.url}/sandbox/Faults", auth=auth, timeout=5).json()[
            "error_share"
        ]
        == 0.0
    )


def test_settings_change_ring_delay_and_clock(sandbox, sandbox_server):
    auth = (sandbox.account_sid, sandbox.auth_token)
    changed = requests.post(
        f"{sandbox_server.url}/sandbox/Settings",
        data={"RingDelay": "2.5", "ClockSpeed": "10", "WebhookTimeout": "5"},
        auth=auth,
        timeout=5,
    ).json()
    assert (changed["ring_delay"], changed["clock_speed"], changed["webhook_timeout"]) == (
        2.5,
        10.0,
        5.0,
    )
    assert sandbox.ring_delay == 2.5 and sandbox.clock.speed == 10.0
    refused = requests.post(
        f"{sandbox_server.url}/sandbox/Settings", data={"RingDelay": "-1"}, auth=auth, timeout=5
    )
    assert refused.status_code == 400
    assert requests.get(f"{sandbox_server.url}/sandbox/Settings", timeout=5).status_code == 401
