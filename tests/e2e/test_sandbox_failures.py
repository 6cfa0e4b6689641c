"""Failing callees, bad numbers, broken webhooks and broken TwiML, as Twilio reports them."""

from __future__ import annotations

import pytest
import requests
from flask import Response
from twilio.base.exceptions import TwilioRestException

from tests.helpers import wait_until
from tests.helpers.openapi_check import check_requests_response
from webhook.events import CallStatusEvent

FROM = "+15005550006"


def place(client, webhook, to: str, **kwargs):
    return client.calls.create(
        to=to,
        from_=FROM,
        url=f"{webhook.url}/voice/outbound?room=R&identity=x",
        status_callback=f"{webhook.url}/voice/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
        **kwargs,
    )


def final_status(client, sid: str, timeout: float = 5) -> str:
    return wait_until(
        lambda: (
            (status := client.calls(sid).fetch().status)
            in ("completed", "busy", "no-answer", "failed", "canceled")
            and status
        ),
        timeout=timeout,
    )


def test_invalid_number_is_refused_with_21211(client, webhook):
    with pytest.raises(TwilioRestException) as refused:
        place(client, webhook, "+15005550001")
    assert (refused.value.status, refused.value.code) == (400, 21211)
    assert client.calls.list() == []


@pytest.mark.parametrize(
    ("to", "status"),
    [("+15005550002", "busy"), ("+15005550003", "no-answer"), ("+15005550004", "failed")],
)
def test_failing_callees(client, webhook, to, status):
    call = place(client, webhook, to, timeout=4)
    assert final_status(client, call.sid) == status
    completed = wait_until(
        lambda: [e for e in webhook.of_kind(CallStatusEvent) if e.status == status]
    )
    assert completed[0].call_sid == call.sid
    assert client.calls.list(status=status)[0].sid == call.sid


def test_sip_uris_answer(client, webhook):
    client.video.v1.rooms.create(unique_name="R")
    call = place(client, webhook, "sip:alice@example.com")
    wait_until(lambda: client.video.v1.rooms("R").participants.list())
    assert client.calls(call.sid).fetch().to == "sip:alice@example.com"


@pytest.mark.parametrize(("from_", "code"), [("not-a-number", 21212), ("+15551112222", 21210)])
def test_bad_from_is_refused(client, webhook, from_, code):
    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(to="+15551234567", from_=from_, url=f"{webhook.url}/voice/outbound")
    assert (refused.value.status, refused.value.code) == (400, code)


def test_a_ringing_call_can_be_canceled(client, webhook, sandbox):
    sandbox.ring_delay = 30
    call = place(client, webhook, "+15551234567")
    wait_until(lambda: client.calls(call.sid).fetch().status == "ringing")
    client.calls(call.sid).update(status="canceled")
    assert final_status(client, call.sid) == "canceled"


def test_webhook_answering_500_ends_the_call_with_11200(client, scripted, sandbox):
    scripted.answers["/boom"] = lambda: Response("oops", status=500)
    call = client.calls.create(
        to="+15551234567",
        from_=FROM,
        url=f"{scripted.url}/boom",
        status_callback=f"{scripted.url}/status",
    )
    assert final_status(client, call.sid) == "completed"
    assert [e.code for e in sandbox.errors_of(call.sid)] == [11200]
    done = wait_until(lambda: scripted.requests_to("/status"))
    assert done[0]["form"]["ErrorCode"] == "11200" and done[0]["signed"]
    assert scripted.requests_to("/boom")[0]["signed"]


def test_webhook_that_is_too_slow_ends_the_call_with_11200(client, scripted, sandbox):
    sandbox.webhook_timeout = 2.0  # simulated seconds: 0.5 s at the fixture's 4x clock

    def slow() -> Response:
        scripted.release.wait(5)
        return Response("<Response/>", mimetype="text/xml")

    scripted.answers["/slow"] = slow
    call = client.calls.create(to="+15551234567", from_=FROM, url=f"{scripted.url}/slow")
    assert final_status(client, call.sid) == "completed"
    errors = sandbox.errors_of(call.sid)
    assert [e.code for e in errors] == [11200] and "within" in errors[0].message
    scripted.release.set()


@pytest.mark.parametrize(
    "document",
    [
        "<Response><Say>unclosed</Response>",
        "<Response><Dial>+15551234567</Dial></Response>",
        "<Response><Record/></Response>",
        "<Speak>hello</Speak>",
    ],
)
def test_broken_twiml_ends_the_call_with_12100(client, sandbox, sandbox_server, document):
    call = client.calls.create(to="+15551234567", from_=FROM, twiml=document)
    assert final_status(client, call.sid) == "completed"
    assert [e.code for e in sandbox.errors_of(call.sid)] == [12100]
    listed = requests.get(
        f"{sandbox_server.url}/sandbox/Errors",
        params={"CallSid": call.sid},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    ).json()["errors"]
    assert [e["code"] for e in listed] == [12100]


def test_gather_and_redirect_follow_the_simulated_caller(client, scripted, sandbox):
    scripted.answers["/menu"] = lambda: Response(
        '<Response><Gather numDigits="2" action="/chosen" timeout="5"><Say>Press</Say></Gather>'
        "<Say>nothing</Say></Response>",
        mimetype="text/xml",
    )
    scripted.answers["/chosen"] = lambda: Response(
        "<Response><Redirect>/bye</Redirect></Response>", mimetype="text/xml"
    )
    scripted.answers["/bye"] = lambda: Response("<Response><Hangup/></Response>")
    number = client.incoming_phone_numbers.list(phone_number="+15005550007")[0]
    client.incoming_phone_numbers(number.sid).update(voice_url=f"{scripted.url}/menu")
    answer = requests.post(
        f"{sandbox_url(client)}/sandbox/IncomingCalls",
        data={"From": "+15557654321", "To": "+15005550007", "Digits": "42"},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    assert answer.status_code == 201
    call_sid = answer.json()["sid"]
    assert final_status(client, call_sid) == "completed"
    chosen = scripted.requests_to("/chosen")
    assert chosen[0]["form"]["Digits"] == "42" and chosen[0]["signed"]
    assert scripted.requests_to("/bye")[0]["form"]["Direction"] == "inbound"
    assert client.calls(call_sid).fetch().direction == "inbound"
    assert not sandbox.errors


def sandbox_url(client) -> str:
    return client.http_client.base_url


def test_redirecting_a_call_in_a_room_moves_it_out(client, webhook, scripted):
    client.video.v1.rooms.create(unique_name="R")
    call = place(client, webhook, "+15551234567")
    wait_until(lambda: client.video.v1.rooms("R").participants.list())
    scripted.answers["/away"] = lambda: Response("<Response><Hangup/></Response>")
    client.calls(call.sid).update(url=f"{scripted.url}/away")
    assert final_status(client, call.sid) == "completed"
    assert client.video.v1.rooms("R").participants.list() == []
    assert scripted.requests_to("/away")[0]["form"]["CallSid"] == call.sid


def test_unknown_resources_answer_twilio_404s(client, sandbox, sandbox_server):
    with pytest.raises(TwilioRestException) as call:
        client.calls("CA" + "0" * 32).fetch()
    assert (call.value.status, call.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as person:
        client.video.v1.rooms.create(unique_name="R")
        client.video.v1.rooms("R").participants("nobody").fetch()
    assert (person.value.status, person.value.code) == (404, 20404)
    raw = requests.get(
        f"{sandbox_server.url}/v1/Rooms/RM{'0' * 32}",
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=5,
    )
    body = check_requests_response(raw).json()
    assert (body["code"], body["message"]) == (
        20404,
        f"The requested resource /Rooms/RM{'0' * 32} was not found",
    )
