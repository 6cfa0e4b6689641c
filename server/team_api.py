"""The team API under /team/v1/: operator bearer tokens on every request, JSON answers."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server import api_controls, api_dial, api_history, api_rooms, api_stream, api_waiting
from server.team_context import (
    PREFIX,
    authenticate,
    check_request_text,
    limit_body,
    on_http_error,
    register_errors,
)

bp = Blueprint("team", __name__, url_prefix=PREFIX)
bp.before_request(limit_body)
bp.before_request(authenticate)
bp.before_request(check_request_text)
register_errors(bp.register_error_handler)
# Unknown paths and wrong methods match no view of the blueprint: the app's handler answers them.
bp.app_errorhandler(HTTPException)(on_http_error)
for child in (api_rooms, api_dial, api_controls, api_waiting, api_history, api_stream):
    bp.register_blueprint(child.bp)
