"""TwiML documents the webhook answers, built with twilio.twiml (never by string formatting)."""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Connect, VoiceResponse

NOT_IN_PROGRESS = "The meeting has not started yet. Please call again later. Goodbye."


def join_room(room: str, identity: str = "") -> str:
    """Connect the call to a Video room; if the room is not in progress, explain and hang up."""
    response = VoiceResponse()
    connect = Connect()
    if identity:
        connect.room(room, participant_identity=identity)
    else:
        connect.room(room)
    response.append(connect)
    response.say(NOT_IN_PROGRESS)
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
