"""`switchboard webhook` as a real process: signed calls get TwiML, others 403, SIGTERM stops it."""

import signal

import requests

from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of

TOKEN = "00112233445566778899aabbccddeeff"


def test_webhook_command_answers_signed_and_rejects_unsigned():
    command = RunningCommand(
        "webhook",
        "--port",
        "0",
        "--public-url",
        "https://abc.ngrok.app",
        env={"TWILIO_AUTH_TOKEN": TOKEN},
    )
    try:
        local = command.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        command.wait_for_line(r"Public URL: https://abc\.ngrok\.app")
        route = "/voice/outbound?room=DailyStandup&identity=alice"
        form = {"CallSid": "CA" + "9" * 32}
        good = twilio_signature(TOKEN, "https://abc.ngrok.app" + route, form)
        bad = twilio_signature("0" * 32, "https://abc.ngrok.app" + route, form)
        signed = requests.post(local + route, data=form, headers={"X-Twilio-Signature": good})
        assert signed.status_code == 200
        room = room_of(parse_twiml(signed.content))
        assert (room.text, room.attrib["participantIdentity"]) == ("DailyStandup", "alice")
        assert requests.post(local + route, data=form).status_code == 403
        wrong = requests.post(local + route, data=form, headers={"X-Twilio-Signature": bad})
        assert wrong.status_code == 403
    finally:
        status = command.terminate()
    assert status == 0
    command.wait_for_line(r"^Webhook stopped\.$")


def test_webhook_command_stops_on_ctrl_c():
    command = RunningCommand("webhook", "--port", "0", env={"TWILIO_AUTH_TOKEN": TOKEN})
    command.wait_for_line(r"listening on")
    command.process.send_signal(signal.SIGINT)
    assert command.process.wait(10) == 0


def test_webhook_command_refuses_to_run_without_a_token():
    command = RunningCommand("webhook", "--port", "0", env={"TWILIO_AUTH_TOKEN": ""})
    command.wait_for_line(r"TWILIO_AUTH_TOKEN is not set")
    assert command.process.wait(10) == 2


def test_webhook_command_reports_a_taken_port():
    first = RunningCommand("webhook", "--port", "0", env={"TWILIO_AUTH_TOKEN": TOKEN})
    try:
        port = first.wait_for_line(r"listening on http://127\.0\.0\.1:(\d+)").group(1)
        second = RunningCommand("webhook", "--port", port, env={"TWILIO_AUTH_TOKEN": TOKEN})
        second.wait_for_line(rf"Port {port} .* already in use")
        assert second.process.wait(10) == 1
    finally:
        first.terminate()
