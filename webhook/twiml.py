"""TwiML documents the webhook answers, built with twilio.twiml (never by string formatting)."""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Connect, Gather, VoiceResponse

NOT_IN_PROGRESS = "The meeting has not started yet. Please call again later. Goodbye."
CODE_PROMPT = "Please enter your meeting code, then press the pound key."
WRONG_CODE = "Sorry, that code is not valid."
NO_CODE = "We did not receive a code."
CODE_GOODBYE = "Sorry, that code is not valid. Goodbye."
HOLD_GREETING = "Thank you for calling. Please hold, and an operator will connect you shortly."
HOLD_MESSAGE = "Please stay on the line."
WAIT_FOR_ROOM = (
    "The meeting has not started yet. Please stay on the line: you will join as soon as it starts."
)
WAIT_GOODBYE = "The meeting has not started. Please call again later. Goodbye."
CODE_TIMEOUT_SECONDS = 10


def _connect(room: str, identity: str) -> Connect:
    """<Connect><Room>: joins an in-progress room, else Twilio goes on to the next verb."""
    connect = Connect()
    if identity:
        connect.room(room, participant_identity=identity)
    else:
        connect.room(room)
    return connect


def join_room(room: str, identity: str = "") -> str:
    """Connect the call to a Video room; if the room is not in progress, explain and hang up."""
    response = VoiceResponse()
    response.append(_connect(room, identity))
    response.say(NOT_IN_PROGRESS)
    response.hangup()
    return str(response)


def ask_for_code(action: str, before: str = "") -> str:
    """Say before (if any), gather digits ending with # for action; silence goes there too."""
    response = VoiceResponse()
    if before:
        response.say(before)
    gather = Gather(
        input="dtmf",
        finish_on_key="#",
        action=action,
        method="POST",
        timeout=CODE_TIMEOUT_SECONDS,
    )
    gather.say(CODE_PROMPT)
    response.append(gather)
    response.redirect(action, method="POST")  # no digits: the action counts a failed try
    return str(response)


def hold_intro(hold_url: str) -> str:
    """Tell the caller the operator will connect them, then go to the hold loop."""
    response = VoiceResponse()
    response.say(HOLD_GREETING)
    response.redirect(hold_url, method="POST")
    return str(response)


def hold_loop(hold_url: str, music_url: str = "", pause_seconds: int = 10) -> str:
    """One round of hold: music (or a short message), a pause, and back to the loop."""
    response = VoiceResponse()
    if music_url:
        response.play(music_url)
    else:
        response.say(HOLD_MESSAGE)
    response.pause(length=pause_seconds)
    response.redirect(hold_url, method="POST")
    return str(response)


def wait_for_room(room: str, identity: str, wait_url: str) -> str:
    """Join the room if it is in progress; else say the caller will join when it starts, and
    go to the waiting loop."""
    response = VoiceResponse()
    response.append(_connect(room, identity))
    response.say(WAIT_FOR_ROOM)
    response.redirect(wait_url, method="POST")
    return str(response)


def wait_round(
    room: str, identity: str, wait_url: str, music_url: str = "", pause_seconds: int = 5
) -> str:
    """One round of waiting for a room: try to join it first, then hold music (or a short
    message), a pause, and the next round."""
    response = VoiceResponse()
    response.append(_connect(room, identity))
    if music_url:
        response.play(music_url)
    else:
        response.say(HOLD_MESSAGE)
    response.pause(length=pause_seconds)
    response.redirect(wait_url, method="POST")
    return str(response)


def goodbye(message: str) -> str:
    """Say message, then hang up."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def refuse(reason: str) -> str:
    """Tell the caller why the call cannot be connected, then hang up."""
    response = VoiceResponse()
    response.say(f"Sorry, this call cannot be connected. {reason} Goodbye.")
    response.hangup()
    return str(response)


def twiml_response(document: str) -> Response:
    """A Flask response carrying a TwiML document."""
    return Response(document, status=200, mimetype="text/xml")
