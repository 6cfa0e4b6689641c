"""Team API: history search and CSV export, the routes, and who is online."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wsgi import wrap_file

from console.core.calls.team_history import write_team_csv
from server import activity, call_store, presence, routes_store
from server.routes_store import RoutesChanged
from server.team_context import (
    ApiError,
    as_json,
    body,
    check_text,
    operator,
    team,
    transaction,
)
from webhook.routes import RoutesError

bp = Blueprint("history", __name__)
MAX_LIMIT = 10_000
CSV_LIMIT = 1_000_000
CSV_IN_MEMORY = 4 * 1024 * 1024  # bytes of an export kept in memory; the rest waits on disk


def _filters(default_limit: int) -> dict:
    """The search filters of the query string, as the local history takes them."""
    args = request.args
    since = None
    if args.get("since"):
        try:
            since = datetime.fromisoformat(args["since"])
        except ValueError:
            raise ApiError(400, "since must be an ISO 8601 date or time.", field="since") from None
    try:
        limit = int(args.get("limit", default_limit))
    except ValueError:
        raise ApiError(400, "limit must be a whole number.", field="limit") from None
    return {
        "text": args.get("text", ""),
        "status": args.getlist("status") or None,
        "direction": args.get("direction") or None,
        "since": since,
        "limit": max(0, min(limit, default_limit)),
        "operator": args.get("operator") or None,
    }


@bp.get("/history")
def history() -> ResponseReturnValue:
    """Calls newest first: ?text= &status= (repeatable) &direction= &since= &operator= &limit=."""
    with transaction() as connection:
        rows = call_store.search_rows(connection, team().account, **_filters(MAX_LIMIT))
    return jsonify(calls=as_json(rows))


@bp.get("/history.csv")
def history_csv() -> ResponseReturnValue:
    """The same search as CSV: the desktop history's columns, then the operator's.

    Rows are read a batch at a time and written to a file that stays in memory only while it
    is small: a year of calls costs this process about ten megabytes, not gigabytes. The file is
    whole before it is sent, so a slow download holds neither a database connection nor a
    request thread.
    """
    filters = _filters(CSV_LIMIT)
    body = tempfile.SpooledTemporaryFile(max_size=CSV_IN_MEMORY)  # noqa: SIM115 (the answer closes it)
    try:
        text = io.TextIOWrapper(body, encoding="utf-8", newline="")
        with transaction() as connection:
            rows = call_store.each_row(connection, team().account, **filters)
            write_team_csv((call_store.entry(row) for row in rows), text)
        text.flush()
        text.detach()  # the file stays open, for the answer
        size = body.tell()
        body.seek(0)
    except BaseException:
        body.close()
        raise
    return Response(
        wrap_file(request.environ, body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="switchboard-history.csv"',
            "Content-Length": str(size),
        },
        direct_passthrough=True,
    )


@bp.get("/history/<sid>/statuses")
def statuses(sid: str) -> ResponseReturnValue:
    """Every status one call went through, oldest first."""
    with transaction() as connection:
        found = call_store.statuses_of(connection, team().account, sid)
    return jsonify(statuses=as_json(found))


@bp.get("/routes")
def routes() -> ResponseReturnValue:
    """The team's routes as routes.toml text, with their version."""
    with transaction() as connection:
        stored = routes_store.read(connection, team().account)
    return jsonify(version=stored.version, toml=stored.toml)


@bp.put("/routes")
def replace_routes() -> ResponseReturnValue:
    """Replace the routes: {"toml", "version"} where version is the one the editor started from."""
    data = body()
    text, version = data.get("toml"), data.get("version")
    if not isinstance(text, str) or isinstance(version, bool) or not isinstance(version, int):
        raise ApiError(400, 'Send {"toml": "…", "version": N} (the version you started from).')
    check_text(text, "toml")
    try:
        with transaction() as connection:
            stored = routes_store.replace(connection, team().account, text, version, operator())
    except RoutesError as error:
        raise ApiError(
            422, str(error), "routes", line=error.line, key=error.key, problem=error.problem
        ) from None
    except RoutesChanged as error:
        current = error.current
        raise ApiError(
            409, str(error), "routes_changed", version=current.version, toml=current.toml
        ) from None
    return jsonify(version=stored.version, toml=stored.toml)


@bp.get("/me")
def me() -> ResponseReturnValue:
    """Who this token belongs to, and the stream's newest event id."""
    who = operator()
    return jsonify(operator=who.name, account=who.account, last_event_id=team().hub.last_id)


@bp.get("/operators")
def operators_online() -> ResponseReturnValue:
    """The operators with an open event stream, and what each is doing."""
    with transaction() as connection:
        names = presence.online(connection, team().account)
        doing = activity.of_online(connection, team().account, names)
    return jsonify(online=names, operators=[entry.as_json() for entry in doing])
