"""What every team API view shares: the team's parts, operator auth, JSON answers and errors."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from flask import Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from console.core.gateways.gateway import TwilioError
from server import operators
from server.database import Database, DatabaseError
from server.event_hub import EventHub
from server.operators import Operator
from server.recorder import Recorder
from server.stream_slots import StreamSlots
from server.twilio_actions import TeamTwilio

log = logging.getLogger(__name__)

TEAM_KEY = "switchboard.team"
PREFIX = "/team/v1"
BODY_LIMIT = 512 * 1024  # bytes of a request body; below the HTTP server's own limit (1 MiB)


@dataclass
class Team:
    """The parts of one server process: database, account, event hub, Twilio, stream slots,
    and the recorder (whose spool keeps what an action wrote while the database is away)."""

    database: Database
    account: str
    hub: EventHub
    twilio: TeamTwilio
    streams: StreamSlots
    recorder: Recorder


def team() -> Team:
    """The current app's team parts."""
    return current_app.extensions[TEAM_KEY]


class ApiError(Exception):
    """An answer other than 2xx, as JSON: {"error": {"message", "kind", ...}}."""

    def __init__(self, status: int, message: str, kind: str = "request", **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.extra = status, message, kind, extra


def error_response(status: int, message: str, kind: str, **extra: Any) -> Response:
    """A JSON error answer."""
    response = jsonify(error={"message": message, "kind": kind, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="switchboard"'
    return response


def on_api_error(error: ApiError) -> ResponseReturnValue:
    return error_response(error.status, error.message, error.kind, **error.extra)


def on_twilio_error(error: TwilioError) -> ResponseReturnValue:
    """Twilio's code and message, as the console shows them; 4xx refused, else unreachable."""
    status = 422 if 400 <= error.status < 500 else 502
    return error_response(
        status, error.message, "twilio", code=error.code, twilio_status=error.status
    )


def on_database_error(error: DatabaseError) -> ResponseReturnValue:
    """The database is away: a 503, and the gate closes, so the requests after this one (and
    Twilio's callbacks) do not each wait for a connection until the probe sees it back."""
    team().recorder.gate.trip(error)
    return error_response(503, "The team database is not reachable; try again.", "database")


def on_data_error(error: psycopg.DataError) -> ResponseReturnValue:
    """A value the database cannot hold or compare (a backstop: fields are checked first)."""
    log.info("team API: the database refused a value: %s", type(error).__name__)
    return error_response(400, "A value in this request cannot be stored or searched.", "invalid")


def on_http_error(error: HTTPException) -> ResponseReturnValue:
    """Werkzeug's answers (404, 405, 413, 500, …) as JSON under /team/v1/; elsewhere as is."""
    path = request.path
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return error
    status = error.code or 500
    message = error.description if status < 500 else "The team server failed; see its log."
    if status == 413:
        message = f"The request body is larger than {BODY_LIMIT // 1024} KiB."
    response = error_response(status, message, "http")
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def limit_body() -> None:
    """Before each team API request: bodies past BODY_LIMIT get a JSON 413 when read."""
    request.max_content_length = BODY_LIMIT


def check_text(value: str, name: str) -> str:
    """value, when the database can hold it: no NUL, no lone surrogate; else a 400."""
    if "\x00" in value:
        raise ApiError(400, f"{name} must not contain a NUL character.", "invalid", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, f"{name} is not valid Unicode text.", "invalid", field=name) from None
    return value


def check_request_text() -> None:
    """Before each team API request: every path part and query value must be storable text."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, name)
    for name, values in request.args.lists():
        check_text(name, "a query parameter's name")
        for value in values:
            check_text(value, name)


def authenticate() -> ResponseReturnValue | None:
    """Before each team API request: the bearer token must belong to an active operator."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401, "An operator token is needed (Authorization: Bearer …).", "auth")
    parts = team()
    with parts.database.connection() as connection:
        operator = operators.authenticate(connection, parts.account, token.strip())
    if operator is None:
        return error_response(401, "This operator token is not valid, or was revoked.", "auth")
    g.operator = operator
    return None


def operator() -> Operator:
    """The operator who made this request."""
    return g.operator


def keep(record: dict[str, Any]) -> None:
    """Write what an action did (server/audit.py), or spool it while the database is away:
    the action happened, so the request answers success either way."""
    try:
        team().recorder.keep(record)
    except OSError:
        log.exception("the %s action could not be recorded, even in the spool", record["action"])


@contextmanager
def transaction() -> Iterator[psycopg.Connection]:
    """One transaction on the team database."""
    with team().database.connection() as connection:
        yield connection


def body() -> dict[str, Any]:
    """The request's JSON object (form fields are accepted too), or a 400."""
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:
            raise ApiError(400, "The request body is nested too deeply.") from None
        if not isinstance(data, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return data
    return request.form.to_dict()


def text_field(data: dict[str, Any], name: str, required: bool = True) -> str:
    """A text field of the body; a 400 when it is missing (and required) or not text."""
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be text.", field=name)
    check_text(value, name)
    if required and not value.strip():
        raise ApiError(400, f"{name} is required.", field=name)
    return value


def as_json(record: Any) -> Any:
    """A record (frozen dataclass) as JSON-able data, with datetimes in ISO 8601."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: as_json(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, list | tuple):
        return [as_json(item) for item in record]
    if isinstance(record, dict):
        return {key: as_json(value) for key, value in record.items()}
    if isinstance(record, datetime):
        return record.isoformat()
    return record


def register_errors(register: Callable[[type[Exception], Callable], object]) -> None:
    """Install the JSON error handlers on a blueprint."""
    register(ApiError, on_api_error)
    register(TwilioError, on_twilio_error)
    register(DatabaseError, on_database_error)
    register(psycopg.DataError, on_data_error)
