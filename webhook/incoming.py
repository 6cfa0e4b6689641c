"""Incoming calls: routes from routes.toml, meeting codes, holding for the operator, and
waiting for a room to start."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request, url_for
from flask.blueprints import BlueprintSetupState

from webhook import twiml
from webhook.callbacks import DISPATCHER_KEY, dispatcher
from webhook.events import CallerWaiting, RoutesLoaded
from webhook.names import InvalidName, check_identity, check_room_name, free_identity
from webhook.query import strict_query
from webhook.routes import Route, RoutingRules, identity_for
from webhook.routes_file import RoutesFile
from webhook.signature import twilio_signed
from webhook.voice import answer_join

log = logging.getLogger(__name__)
bp = Blueprint("incoming", __name__, url_prefix="/voice")

ROUTES_KEY = "switchboard.routes"
MAX_CODE_ATTEMPTS = 3
WAIT_PAUSE_SECONDS = 5  # at most this long between two tries to join the awaited room
_routes_lock = threading.Lock()


def _watch_routes(app: Flask, path: str, read_now: bool) -> RoutesFile:
    """A watched RoutesFile for path that tells the app's event consumer of each change."""
    events = app.extensions[DISPATCHER_KEY]

    def on_change(file: RoutesFile) -> None:
        events.submit(RoutesLoaded(str(file.path), file.error))

    file = RoutesFile(path, on_change)
    if read_now:
        file.check()
    file.start(look_first=not read_now)
    return file


def _load_routes(state: BlueprintSetupState) -> None:
    """Read the routes file while the app is built (no call waits yet), then watch it."""
    path = state.app.config.get("ROUTES_FILE") or ""
    if path:
        state.app.extensions[ROUTES_KEY] = _watch_routes(state.app, path, read_now=True)


bp.record_once(_load_routes)


def routes_file(app: Flask | None = None) -> RoutesFile | None:
    """The app's RoutesFile for its ROUTES_FILE setting (None when no routes file is set).

    A file set only after the app was built is read by its watcher, not by the caller.
    """
    app = app or current_app
    path = app.config.get("ROUTES_FILE") or ""
    current = app.extensions.get(ROUTES_KEY)
    if not path or (current is not None and current.path == Path(path)):
        return current if path else None
    with _routes_lock:
        current = app.extensions.get(ROUTES_KEY)
        if current is None or current.path != Path(path):
            if current is not None:
                current.stop(timeout=0)
            current = app.extensions[ROUTES_KEY] = _watch_routes(app, path, read_now=False)
        return current


def stop_watching_routes(app: Flask, timeout: float = 1.0) -> None:
    """End the app's routes watcher thread (a server calls it when it stops)."""
    current = app.extensions.get(ROUTES_KEY)
    if current is not None:
        current.stop(timeout)


def current_rules() -> RoutingRules:
    """The rules in force for this request; it never reads the file, nor waits for a reader."""
    if "switchboard_rules" not in g:
        file = routes_file()
        g.switchboard_rules = RoutingRules() if file is None else file.rules
    return g.switchboard_rules


def _free_in_room(room: str, identity: str) -> str:
    lookup = current_app.config.get("ROOM_IDENTITIES")
    if lookup is None or not identity:
        return identity
    try:
        taken = set(lookup(room))
    except Exception as error:  # a failed look-up must not cost the caller their call
        log.warning("could not list identities in %r, using %r as is: %s", room, identity, error)
        return identity
    return free_identity(identity, taken)


def _join(room: str, rules: RoutingRules) -> Response:
    caller = request.form.get("From", "")
    identity = identity_for(caller, rules) if caller else ""
    return answer_join(room, _free_in_room(room, identity))


def _sibling(endpoint: str, **values: object) -> str:
    """A URL relative to the current document (all of ours live side by side under /voice/).

    Twilio resolves it against the URL it fetched, which is the public URL it signs, so the
    signature check holds, even when the public URL has a path prefix.
    """
    return url_for(endpoint, **values).rpartition("/")[2]


def _code_url(attempt: int) -> str:
    return _sibling("incoming.code", attempt=attempt)


@bp.post("/incoming")
@twilio_signed
def incoming() -> Response:
    """A call came in to one of the account's numbers: follow its route (or the default room)."""
    rules = current_rules()
    route = rules.route_for(request.form.get("To", ""))
    if route is None:
        room = current_app.config.get("DEFAULT_ROOM") or ""
        if not room:
            return twiml.twiml_response(twiml.refuse("No meeting room is set up for this number."))
        return _join(room, rules)
    if route.action == "ask_code":
        return twiml.twiml_response(twiml.ask_for_code(_code_url(1)))
    if route.action == "hold":
        return _hold(rules)
    if route.wait_for_room:
        return _wait_for_room(route, rules)
    return _join(route.room, rules)


def _announce_waiting(rules: RoutingRules, room: str = "") -> None:
    """Tell the console a caller is waiting (for the operator, or for room to start)."""
    form = request.form
    caller = form.get("From", "")
    waiting = CallerWaiting(
        call_sid=form.get("CallSid", ""),
        from_=caller,
        to=form.get("To", ""),
        since=datetime.now(UTC),
        identity=identity_for(caller, rules) if caller else "",
        room=room,
    )
    dispatcher().submit(waiting)


def _hold(rules: RoutingRules) -> Response:
    _announce_waiting(rules)
    return twiml.twiml_response(twiml.hold_intro(_sibling("incoming.hold")))


def _wait_url(room: str, identity: str, until: int, announce: bool = False) -> str:
    """The signed URL of the next round: room, identity and deadline travel in it."""
    extra = {"announce": "1"} if announce else {}
    return _sibling("incoming.wait", room=room, identity=identity, until=until, **extra)


def _wait_for_room(route: Route, rules: RoutingRules) -> Response:
    """Join the route's room if it is in progress; else wait for it, up to max_wait."""
    caller = request.form.get("From", "")
    identity = _free_in_room(route.room, identity_for(caller, rules) if caller else "")
    try:
        room, identity = check_room_name(route.room), check_identity(identity)
    except InvalidName as error:
        return twiml.twiml_response(twiml.refuse(str(error)))
    until = int(time.time()) + route.max_wait
    document = twiml.wait_for_room(room, identity, _wait_url(room, identity, until, True))
    return twiml.twiml_response(document)


@bp.post("/wait")
@twilio_signed
def wait() -> Response:
    """One round of waiting for a room: try to join it, hold, and come back; after the
    deadline in the signed URL, a goodbye. The first round tells the console."""
    try:
        args = strict_query(request.query_string)
        room = check_room_name(args.get("room", ""))
        identity = check_identity(args.get("identity", ""))
        until = int(args.get("until", "0"))
    except (InvalidName, ValueError) as error:
        log.warning("call %s: bad waiting URL: %s", request.form.get("CallSid", "?"), error)
        request.environ["switchboard.rejection"] = str(error)
        return twiml.twiml_response(twiml.refuse("This waiting line is not valid."))
    if time.time() >= until:
        return twiml.twiml_response(twiml.goodbye(twiml.WAIT_GOODBYE))
    if args.get("announce"):
        _announce_waiting(current_rules(), room)
    config = current_app.config
    pause = min(int(config.get("HOLD_PAUSE_SECONDS") or WAIT_PAUSE_SECONDS), WAIT_PAUSE_SECONDS)
    joining = _free_in_room(room, identity)
    document = twiml.wait_round(
        room,
        joining,
        _wait_url(room, identity, until),
        config.get("HOLD_MUSIC_URL") or "",
        max(1, pause),
    )
    return twiml.twiml_response(document)


@bp.post("/hold")
@twilio_signed
def hold() -> Response:
    """One round of the hold loop, until the operator redirects the call or the caller hangs up."""
    config = current_app.config
    document = twiml.hold_loop(
        _sibling("incoming.hold"),
        config.get("HOLD_MUSIC_URL") or "",
        int(config.get("HOLD_PAUSE_SECONDS") or 10),
    )
    return twiml.twiml_response(document)


def _attempt(raw: str | None) -> int:
    try:
        return min(max(int(raw or "1"), 1), MAX_CODE_ATTEMPTS)
    except ValueError:
        return 1


@bp.post("/code")
@twilio_signed
def code() -> Response:
    """The caller typed a meeting code (Digits): join its room, ask again, or say goodbye."""
    rules = current_rules()
    attempt = _attempt(request.args.get("attempt"))
    digits = request.form.get("Digits", "").strip().rstrip("#")
    room = rules.codes.get(digits) if digits else None
    if room:
        return _join(room, rules)
    log.info("call %s: code %r not known (try %d)", request.form.get("CallSid"), digits, attempt)
    if attempt >= MAX_CODE_ATTEMPTS:
        return twiml.twiml_response(twiml.goodbye(twiml.CODE_GOODBYE))
    before = twiml.WRONG_CODE if digits else twiml.NO_CODE
    return twiml.twiml_response(twiml.ask_for_code(_code_url(attempt + 1), before))
