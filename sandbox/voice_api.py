"""2010 API routes: the Account, Calls, IncomingPhoneNumbers and OutgoingCallerIds."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox import serialize
from sandbox.core import is_http_url
from sandbox.current import current_sandbox
from sandbox.date_filters import BEFORE, FROM, ON, admitted, read_bounds
from sandbox.errors import TwilioApiError, not_found
from sandbox.models import Call

bp = Blueprint("voice", __name__, url_prefix="/2010-04-01/Accounts")

CALL_STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)
# "StartTime" is that UTC day; "StartTime<" before the moment; "StartTime>" from it on.
START_FILTERS = {"StartTime": ON, "StartTime<": BEFORE, "StartTime>": FROM}
END_FILTERS = {"EndTime": ON, "EndTime<": BEFORE, "EndTime>": FROM}


def _json(body: dict, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _account(account_sid: str):
    sandbox = current_sandbox()
    if account_sid != sandbox.account_sid:
        raise not_found(request.path)
    return sandbox


def render_call(call: Call) -> dict:
    """A call's JSON, read under the state lock."""
    sandbox = current_sandbox()
    with sandbox.state.lock:
        return serialize.call(call, sandbox.account_sid)


@bp.get("/<account_sid>.json")
def fetch_account(account_sid: str) -> Response:
    """GET /2010-04-01/Accounts/{Sid}.json."""
    sandbox = _account(account_sid)
    created = min(n.created for n in sandbox.state.numbers.values())
    return _json(serialize.account(sandbox.account_sid, sandbox.auth_token, created))


@bp.post("/<account_sid>/Calls.json")
def create_call(account_sid: str) -> Response:
    """POST Calls.json: place an outbound call."""
    call = _account(account_sid).place_call(request.form)
    return _json(render_call(call), 201)


@bp.get("/<account_sid>/Calls.json")
def list_calls(account_sid: str) -> Response:
    """GET Calls.json, newest first, filtered by To, From, ParentCallSid, Status and dates."""
    sandbox = _account(account_sid)
    args = request.args
    status = args.get("Status")
    if status is not None and status not in CALL_STATUSES:
        raise TwilioApiError(400, 20001, f"Invalid Status: {status}")
    started, ended = read_bounds(args, START_FILTERS), read_bounds(args, END_FILTERS)
    parent = args.get("ParentCallSid")
    with sandbox.state.lock:
        calls = [
            c
            for c in sandbox.state.calls.values()
            if (args.get("To") is None or c.to == args["To"])
            and (args.get("From") is None or c.from_ == args["From"])
            and (status is None or c.status == status)
            and parent is None  # no call here spawns another (the sandbox plays no <Dial>)
            and admitted(c.start_time, started)
            and admitted(c.end_time, ended)
        ]
    calls.sort(key=lambda c: c.created, reverse=True)
    filters = {"To": args.get("To"), "From": args.get("From"), "ParentCallSid": parent}
    filters["Status"] = status
    filters.update({bound.name: args[bound.name] for bound in (*started, *ended)})
    body = serialize.v2010_list(
        "calls", calls, render_call, serialize.Paging(args), request.path, filters
    )
    return _json(body)


@bp.get("/<account_sid>/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str) -> Response:
    """GET Calls/{Sid}.json."""
    return _json(render_call(_account(account_sid).find_call(sid)))


@bp.post("/<account_sid>/Calls/<sid>.json")
def update_call(account_sid: str, sid: str) -> Response:
    """POST Calls/{Sid}.json: Status=completed/canceled, or a Url/Twiml redirect."""
    sandbox = _account(account_sid)
    call = sandbox.update_call(sandbox.find_call(sid), request.form)
    return _json(render_call(call))


@bp.delete("/<account_sid>/Calls/<sid>.json")
def delete_call(account_sid: str, sid: str) -> tuple[str, int]:
    """DELETE Calls/{Sid}.json: forget an ended call (20009 while it is live)."""
    sandbox = _account(account_sid)
    sandbox.delete_call(sandbox.find_call(sid))
    return "", 204


def _render_number(number) -> dict:
    return serialize.incoming_number(number, current_sandbox().account_sid)


@bp.get("/<account_sid>/IncomingPhoneNumbers.json")
def list_numbers(account_sid: str) -> Response:
    """GET IncomingPhoneNumbers.json with the PhoneNumber and FriendlyName filters."""
    sandbox = _account(account_sid)
    args = request.args
    with sandbox.state.lock:
        numbers = [
            n
            for n in sandbox.state.numbers.values()
            if (args.get("PhoneNumber") is None or n.phone_number == args["PhoneNumber"])
            and (args.get("FriendlyName") is None or n.friendly_name == args["FriendlyName"])
        ]
        filters = {"PhoneNumber": args.get("PhoneNumber"), "FriendlyName": args.get("FriendlyName")}
        body = serialize.v2010_list(
            "incoming_phone_numbers",
            numbers,
            _render_number,
            serialize.Paging(args),
            request.path,
            filters,
        )
    return _json(body)


def _number(sandbox, sid: str):
    number = sandbox.state.numbers.get(sid)
    if number is None:
        raise not_found(request.path)
    return number


@bp.get("/<account_sid>/IncomingPhoneNumbers/<sid>.json")
def fetch_number(account_sid: str, sid: str) -> Response:
    """GET IncomingPhoneNumbers/{Sid}.json."""
    sandbox = _account(account_sid)
    return _json(_render_number(_number(sandbox, sid)))


@bp.post("/<account_sid>/IncomingPhoneNumbers/<sid>.json")
def update_number(account_sid: str, sid: str) -> Response:
    """POST IncomingPhoneNumbers/{Sid}.json: VoiceUrl, VoiceMethod, StatusCallback, FriendlyName."""
    sandbox = _account(account_sid)
    number = _number(sandbox, sid)
    form = request.form
    for field in ("VoiceUrl", "StatusCallback"):
        value = form.get(field)
        if value and not is_http_url(value):
            raise TwilioApiError(400, 21502, f"{field} is not a valid URL: {value}")
    for field in ("VoiceMethod", "StatusCallbackMethod"):
        value = form.get(field)
        if value is not None and value.upper() not in ("GET", "POST"):
            raise TwilioApiError(400, 20001, f"{field} must be GET or POST")
    with sandbox.state.lock:
        if "VoiceUrl" in form:
            number.voice_url = form["VoiceUrl"]
        if "VoiceMethod" in form:
            number.voice_method = form["VoiceMethod"].upper()
        if "StatusCallback" in form:
            number.status_callback = form["StatusCallback"]
        if "StatusCallbackMethod" in form:
            number.status_callback_method = form["StatusCallbackMethod"].upper()
        if "FriendlyName" in form:
            number.friendly_name = form["FriendlyName"]
        number.updated = sandbox.clock.now()
    return _json(_render_number(number))


@bp.get("/<account_sid>/OutgoingCallerIds.json")
def list_caller_ids(account_sid: str) -> Response:
    """GET OutgoingCallerIds.json with the PhoneNumber filter."""
    sandbox = _account(account_sid)
    wanted = request.args.get("PhoneNumber")
    with sandbox.state.lock:
        ids = [
            n
            for n in sandbox.state.caller_ids.values()
            if wanted is None or n.phone_number == wanted
        ]
    body = serialize.v2010_list(
        "outgoing_caller_ids",
        ids,
        lambda n: serialize.caller_id(n, sandbox.account_sid),
        serialize.Paging(request.args),
        request.path,
        {"PhoneNumber": wanted},
    )
    return _json(body)
