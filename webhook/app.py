"""The webhook's Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Request, Response, request
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

from webhook import health, incoming, video, voice
from webhook.callbacks import DISPATCHER_KEY, dispatcher
from webhook.events import Event, EventDispatcher, RequestLogged

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "PUBLIC_URL": "",  # base URL Twilio uses, e.g. https://abc.ngrok.app; signatures cover it
    "AUTH_TOKEN": "",  # Twilio auth token that keys X-Twilio-Signature
    "SKIP_SIGNATURE": False,  # accept unsigned requests (experiments only)
    "DEFAULT_ROOM": "",  # room for incoming calls that no route matches
    "ROUTES_FILE": "",  # path of routes.toml (reread when it changes); "" = no routes
    "ROOM_IDENTITIES": None,  # optional: room name -> identities connected there (free variants)
    "HOLD_MUSIC_URL": "",  # played while a caller waits for the operator; "" = a short message
    "HOLD_PAUSE_SECONDS": 10,  # silence between hold messages
}


class WebhookRequest(Request):
    """A request whose query string may hold bytes that are not UTF-8.

    Werkzeug decodes it strictly for args and full_path, so such a request (anyone can send one)
    would end in a 500; here the bytes become U+FFFD. /voice/outbound reads the raw bytes itself
    (webhook.query) and refuses a room name that is not UTF-8.
    """

    @cached_property
    def args(self) -> MultiDict[str, str]:
        query = self.query_string.decode("utf-8", "replace")
        return self.parameter_storage_class(
            parse_qsl(query, keep_blank_values=True, errors="replace")
        )

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"


def create_app(
    config: Mapping[str, Any] | None = None, on_event: Callable[[Event], object] | None = None
) -> Flask:
    """Build the webhook app; on_event gets callback and request events off the request thread."""
    app = Flask(__name__, static_folder=None)  # no files to serve: no /static/ route either
    app.request_class = WebhookRequest
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    if app.config["SKIP_SIGNATURE"]:
        log.warning("SIGNATURE CHECKS ARE OFF: anyone who can reach this webhook can drive it")
    app.extensions[DISPATCHER_KEY] = EventDispatcher(on_event)
    for blueprint in (voice.bp, incoming.bp, video.bp, health.bp):
        app.register_blueprint(blueprint)
    app.after_request(_log_request)
    return app


def _log_request(response: Response) -> Response:
    if request.path == "/health" or not dispatcher().wanted:
        return response
    detail = request.environ.get("switchboard.rejection", "")
    if not detail and response.mimetype == "text/xml":
        detail = response.get_data(as_text=True)
    event = RequestLogged(
        request.method, request.full_path.rstrip("?"), response.status_code, detail
    )
    dispatcher().submit(event)
    return response
