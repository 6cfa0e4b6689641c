"""The sandbox's Flask application factory: Twilio's paths at the root, controls under /sandbox/."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox import control_api, notifications_api, video_api, voice_api
from sandbox.auth import require_credentials
from sandbox.core import Sandbox
from sandbox.current import SANDBOX_KEY, current_sandbox
from sandbox.errors import TwilioApiError, UnknownResource, not_found

log = logging.getLogger(__name__)

PUBLIC_PATHS = ("/sandbox/Health",)
FORM_TYPE = "application/x-www-form-urlencoded"
# Fields with their own Twilio code when their value is not UTF-8; any other field gets 20001.
NOT_UTF8 = {
    ("POST", "/v1/Rooms", "UniqueName"): (53102, "Room name contains invalid characters"),
}
NOT_UTF8_DEFAULT = (20001, "Invalid parameter")


def create_sandbox_app(sandbox: Sandbox) -> Flask:
    """Build the Flask app that serves one Sandbox over HTTP."""
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions[SANDBOX_KEY] = sandbox
    for blueprint in (video_api.bp, voice_api.bp, notifications_api.bp, control_api.bp):
        app.register_blueprint(blueprint)
    app.before_request(_check_request)
    app.register_error_handler(TwilioApiError, _twilio_error)
    app.register_error_handler(UnknownResource, _unknown_resource)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    return app


def _check_request() -> None:
    if request.path in PUBLIC_PATHS:
        return
    sandbox = current_sandbox()
    require_credentials(sandbox)
    _refuse_text_that_is_not_utf8()
    if request.path.startswith("/sandbox/"):
        return
    delay, error = sandbox.faults.decide(request.path)
    if delay:
        time.sleep(delay)
    if error is not None:
        raise error


def _not_utf8(encoded: bytes) -> list[str]:
    """The names of url-encoded fields whose decoded value is not valid UTF-8."""
    bad = []
    pairs = parse_qsl(encoded.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    for name, value in pairs:
        try:
            value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            bad.append(name.encode("latin-1").decode("utf-8", "replace"))
    return bad


def _refuse_text_that_is_not_utf8() -> None:
    """Twilio refuses a parameter that is not UTF-8; werkzeug would keep it mangled."""
    bad = _not_utf8(request.query_string)
    if request.mimetype == FORM_TYPE:
        bad += _not_utf8(request.get_data(cache=True))
    if not bad:
        return
    code, message = NOT_UTF8.get((request.method, request.path, bad[0]), NOT_UTF8_DEFAULT)
    raise TwilioApiError(400, code, f"{message}: {bad[0]} is not valid UTF-8")


def error_response(error: TwilioApiError) -> Response:
    """Twilio's JSON error body with its status."""
    response = jsonify(error.body())
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _twilio_error(error: TwilioApiError) -> Response:
    return error_response(error)


def _unknown_resource(error: UnknownResource) -> Response:
    return error_response(not_found(request.path))


def _http_error(error: HTTPException) -> Response:
    if error.code == 404:
        return error_response(not_found(request.path))
    if error.code == 405:
        return error_response(TwilioApiError(405, 20004, "Method not allowed"))
    return error_response(TwilioApiError(error.code or 400, 20001, error.description or ""))


def _crash(error: Exception) -> Response:
    log.exception("sandbox request %s %s failed", request.method, request.path)
    return error_response(TwilioApiError(500, 20500, "Internal Server Error"))
