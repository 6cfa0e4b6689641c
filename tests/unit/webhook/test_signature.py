"""Signature checks on every Twilio route, against the configured public URL."""

import pytest

from tests.helpers.signing import twilio_signature
from webhook import create_app

TOKEN = "12345678901234567890123456789012"
PUBLIC = "https://abc.ngrok.app"
ROUTES = [
    "/voice/outbound?room=DailyStandup&identity=alice",
    "/voice/incoming",
    "/voice/status",
    "/video/status",
]
FORM = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "2" * 32, "CallStatus": "ringing"}


@pytest.fixture
def client():
    app = create_app({"AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC, "DEFAULT_ROOM": "Lobby"})
    return app.test_client()


@pytest.mark.parametrize("route", ROUTES)
def test_signed_request_is_accepted(client, route):
    signature = twilio_signature(TOKEN, PUBLIC + route, FORM)
    response = client.post(route, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code in (200, 204)


@pytest.mark.parametrize("route", ROUTES)
def test_missing_signature_is_403(client, route, caplog):
    response = client.post(route, data=FORM)
    assert response.status_code == 403
    assert "missing X-Twilio-Signature" in caplog.text


@pytest.mark.parametrize("route", ROUTES)
def test_wrong_token_is_403(client, route, caplog):
    signature = twilio_signature("f" * 32, PUBLIC + route, FORM)
    response = client.post(route, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert "does not match" in caplog.text


def test_signature_over_local_url_is_rejected(client):
    """Behind a tunnel the request arrives on localhost but Twilio signed the public URL."""
    route = ROUTES[0]
    signature = twilio_signature(TOKEN, "http://localhost" + route, FORM)
    response = client.post(route, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_query_string_is_part_of_the_signature(client):
    signed = "/voice/outbound?room=DailyStandup&identity=alice"
    signature = twilio_signature(TOKEN, PUBLIC + signed, FORM)
    tampered = "/voice/outbound?room=DailyStandup&identity=mallory"
    response = client.post(tampered, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_form_fields_are_part_of_the_signature(client):
    route = ROUTES[0]
    signature = twilio_signature(TOKEN, PUBLIC + route, FORM)
    altered = dict(FORM, CallStatus="completed")
    response = client.post(route, data=altered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("configured", "signed_base"),
    [
        ("https://abc.ngrok.app", "https://abc.ngrok.app:443"),
        ("https://abc.ngrok.app:443", "https://abc.ngrok.app"),
        ("https://abc.ngrok.app/", "https://abc.ngrok.app"),
    ],
)
def test_https_with_and_without_default_port(configured, signed_base):
    app = create_app({"AUTH_TOKEN": TOKEN, "PUBLIC_URL": configured})
    route = ROUTES[0]
    signature = twilio_signature(TOKEN, signed_base + route, FORM)
    response = app.test_client().post(route, data=FORM, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_no_token_configured_rejects_everything(caplog):
    app = create_app({"AUTH_TOKEN": "", "PUBLIC_URL": PUBLIC})
    signature = twilio_signature("", PUBLIC + ROUTES[0], FORM)
    response = app.test_client().post(
        ROUTES[0], data=FORM, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert "no auth token" in caplog.text


def test_skip_signature_accepts_unsigned_and_warns(caplog):
    app = create_app({"AUTH_TOKEN": TOKEN, "SKIP_SIGNATURE": True})
    assert "SIGNATURE CHECKS ARE OFF" in caplog.text
    response = app.test_client().post(ROUTES[0], data=FORM)
    assert response.status_code == 200


def test_health_is_unsigned_and_echoes_nonce(client):
    response = client.get("/health?nonce=abc123")
    assert response.status_code == 200
    body = response.get_json()
    assert body["nonce"] == "abc123"
    assert body["status"] == "ok"
    assert body["public_url"] == PUBLIC
    assert body["version"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_rejection_tells_the_caller_nothing_about_the_configuration(client, route, caplog):
    signature = twilio_signature("f" * 32, PUBLIC + route, FORM)
    response = client.post(route, data=FORM, headers={"X-Twilio-Signature": signature})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "not signed by Twilio" in body
    assert PUBLIC not in body and "abc.ngrok.app" not in body
    assert PUBLIC in caplog.text  # the operator's log still says which URL was checked


def test_a_huge_unsigned_url_is_logged_cut_short(client, caplog):
    route = "/voice/status?junk=" + "a://a:" * 20_000
    response = client.post(route, data=FORM, headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403
    (line,) = [r.getMessage() for r in caplog.records if "does not match" in r.getMessage()]
    assert len(line) < 600 and "more)" in line
    assert line.startswith(
        f"rejected POST /voice/status: X-Twilio-Signature does not match {PUBLIC}"
    )
