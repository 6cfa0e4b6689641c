"""Video routes: room status callbacks."""

from __future__ import annotations

from flask import Blueprint

from webhook.callbacks import publish_callback
from webhook.events import RoomEvent
from webhook.signature import twilio_signed

bp = Blueprint("video", __name__, url_prefix="/video")


@bp.post("/status")
@twilio_signed
def status() -> tuple[str, int]:
    """Room and participant events: hand them to the console and answer at once."""
    publish_callback(RoomEvent)
    return "", 204
