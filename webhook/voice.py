"""Voice routes: TwiML that joins outbound calls to rooms, and call progress callbacks."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from webhook import twiml
from webhook.callbacks import publish_callback
from webhook.events import CallStatusEvent
from webhook.names import InvalidName, check_identity, check_room_name
from webhook.query import strict_query
from webhook.signature import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")


def answer_join(room: str, identity: str) -> Response:
    """Join room as identity, or explain in words and hang up when either is not acceptable."""
    try:
        document = twiml.join_room(check_room_name(room), check_identity(identity))
    except InvalidName as error:
        log.warning("refused call %s: %s", request.form.get("CallSid", "?"), error)
        request.environ["switchboard.rejection"] = str(error)
        document = twiml.refuse(str(error))
    return twiml.twiml_response(document)


@bp.post("/outbound")
@twilio_signed
def outbound() -> Response:
    """An outbound call was answered: join the room and identity named in the signed URL."""
    try:
        args = strict_query(request.query_string)
    except InvalidName as error:
        return twiml.twiml_response(twiml.refuse(str(error)))
    return answer_join(args.get("room", ""), args.get("identity", ""))


@bp.post("/status")
@twilio_signed
def status() -> tuple[str, int]:
    """Call progress: hand it to the console and answer at once."""
    publish_callback(CallStatusEvent)
    return "", 204
