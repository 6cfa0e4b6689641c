"""Incoming calls: routes from routes.toml, meeting codes, and holding for the operator."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request, url_for

from webhook import twiml
from webhook.callbacks import dispatcher
from webhook.events import CallerWaiting, RoutesLoaded
from webhook.names import free_identity
from webhook.routes import RoutingRules, identity_for
from webhook.routes_file import RoutesFile
from webhook.signature import twilio_signed
from webhook.voice import answer_join

log = logging.getLogger(__name__)
bp = Blueprint("incoming", __name__, url_prefix="/voice")

ROUTES_KEY = "switchboard.routes"
MAX_CODE_ATTEMPTS = 3
_routes_lock = threading.Lock()


def routes_file(app: Flask | None = None) -> RoutesFile | None:
    """The app's RoutesFile for its ROUTES_FILE setting (None when no routes file is set)."""
    app = app or current_app
    path = app.config.get("ROUTES_FILE") or ""
    if not path:
        return None
    with _routes_lock:
        current = app.extensions.get(ROUTES_KEY)
        if current is None or current.path != Path(path):
            current = app.extensions[ROUTES_KEY] = RoutesFile(path)
        return current


def current_rules() -> RoutingRules:
    """The rules for this request; the file is looked at once per request at most."""
    if "switchboard_rules" not in g:
        file = routes_file()
        if file is None:
            g.switchboard_rules = RoutingRules()
        else:
            if file.check():
                dispatcher().submit(RoutesLoaded(str(file.path), file.error))
            g.switchboard_rules = file.rules
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
    return _join(route.room, rules)


def _hold(rules: RoutingRules) -> Response:
    form = request.form
    caller = form.get("From", "")
    waiting = CallerWaiting(
        call_sid=form.get("CallSid", ""),
        from_=caller,
        to=form.get("To", ""),
        since=datetime.now(UTC),
        identity=identity_for(caller, rules) if caller else "",
    )
    dispatcher().submit(waiting)
    return twiml.twiml_response(twiml.hold_intro(_sibling("incoming.hold")))


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
