"""Voice routes: TwiML that joins calls to rooms, and call progress callbacks."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from webhook import twiml
from webhook.callbacks import publish_callback
from webhook.events import CallStatusEvent
from webhook.names import InvalidName, check_identity, check_room_name
from webhook.query import strict_query
from webhook.signature import twilio_signed

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")


def _answer_join(room: str, identity: str) -> Response:
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
    return _answer_join(args.get("room", ""), args.get("identity", ""))


@bp.post("/incoming")
@twilio_signed
def incoming() -> Response:
    """A call came in to one of the account's numbers: join the default room."""
    room = current_app.config.get("DEFAULT_ROOM") or ""
    if not room:
        return twiml.twiml_response(twiml.refuse("No meeting room is set up for this number."))
    return _answer_join(room, "")


@bp.post("/status")
@twilio_signed
def status() -> tuple[str, int]:
    """Call progress: hand it to the console and answer at once."""
    publish_callback(CallStatusEvent)
    return "", 204
