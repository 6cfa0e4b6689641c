"""The team API under /team/v1/: operator bearer tokens on every request, JSON answers."""

from __future__ import annotations

from flask import Blueprint

from server import api_controls, api_history, api_rooms, api_stream, api_waiting
from server.team_context import authenticate, register_errors

PREFIX = "/team/v1"
bp = Blueprint("team", __name__, url_prefix=PREFIX)
bp.before_request(authenticate)
register_errors(bp.register_error_handler)
for child in (api_rooms.bp, api_controls.bp, api_waiting.bp, api_history.bp, api_stream.bp):
    bp.register_blueprint(child)
