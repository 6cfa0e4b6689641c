"""Sandbox-only controls under /sandbox/: incoming calls, ring delay, faults, recorded errors,
and who hears whom in a room."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sandbox.current import current_sandbox
from sandbox.errors import TwilioApiError
from sandbox.faults import FaultPlan
from sandbox.serialize import iso8601

bp = Blueprint("control", __name__, url_prefix="/sandbox")


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = request.form.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise TwilioApiError(400, 20001, f"{name} must be a number") from None
    if not low <= value <= high:
        raise TwilioApiError(400, 20001, f"{name} must be between {low:g} and {high:g}")
    return value


@bp.get("/Health")
def health() -> Response:
    """Unauthenticated liveness check."""
    return jsonify(status="ok")


@bp.post("/IncomingCalls")
def incoming_call() -> Response:
    """Simulate a caller dialling one of the account's numbers (From, To, optional Digits)."""
    from sandbox.voice_api import render_call

    form = request.form
    if not form.get("From") or not form.get("To"):
        raise TwilioApiError(400, 21201, "From and To are required")
    call = current_sandbox().incoming_call(form["From"], form["To"], form.get("Digits", ""))
    response = jsonify(render_call(call))
    response.status_code = 201
    return response


@bp.post("/Calls/<sid>/Digits")
def press_digits(sid: str) -> Response:
    """The simulated caller on call {sid} presses keys (Digits) for a <Gather>."""
    sandbox = current_sandbox()
    digits = request.form.get("Digits", "")
    if not digits or any(c not in "0123456789*#w" for c in digits):
        raise TwilioApiError(400, 13223, "Digits must be 0-9, * or #")
    call = sandbox.find_call(sid)
    sandbox.send_digits(call, digits)
    return jsonify(call_sid=call.sid, digits=digits)


@bp.get("/Calls/<sid>/Heard")
def heard(sid: str) -> Response:
    """What the caller on call {sid} heard so far: each <Say> text and <Play> URL, in order."""
    sandbox = current_sandbox()
    call = sandbox.find_call(sid)
    with sandbox.state.lock:
        items = list(call.heard)
    return jsonify(call_sid=call.sid, heard=[{"verb": verb, "text": text} for verb, text in items])


@bp.post("/Calls/<sid>/Hangup")
def hang_up(sid: str) -> Response:
    """The simulated caller on call {sid} hangs up; the call ends as when a person does."""
    sandbox = current_sandbox()
    call = sandbox.find_call(sid)
    sandbox.caller_hangs_up(call)
    return jsonify(call_sid=call.sid)


def _settings_json() -> dict:
    sandbox = current_sandbox()
    return {
        "account_sid": sandbox.account_sid,
        "api_key_sid": sandbox.api_key_sid,
        "ring_delay": sandbox.ring_delay,
        "webhook_timeout": sandbox.webhook_timeout,
        "clock_speed": sandbox.clock.speed,
        "calls_per_second": sandbox.call_queue.rate,
    }


@bp.get("/Settings")
def get_settings() -> Response:
    """The behaviour settings: ring delay, webhook timeout, clock speed, calls per second."""
    return jsonify(_settings_json())


@bp.post("/Settings")
def set_settings() -> Response:
    """Change RingDelay (s), WebhookTimeout (s), ClockSpeed (simulated s per real s) or
    CallsPerSecond (the account's CPS: API calls beyond it wait in line, as at Twilio)."""
    sandbox = current_sandbox()
    ring = _float("RingDelay", sandbox.ring_delay, 0, 600)
    timeout = _float("WebhookTimeout", sandbox.webhook_timeout, 0.1, 600)
    speed = _float("ClockSpeed", sandbox.clock.speed, 0.01, 10000)
    cps = _float("CallsPerSecond", sandbox.call_queue.rate, 0.01, 10000)
    sandbox.ring_delay, sandbox.webhook_timeout = ring, timeout
    sandbox.clock.set_speed(speed)
    sandbox.call_queue.set_rate(cps)
    return jsonify(_settings_json())


@bp.get("/Faults")
def get_faults() -> Response:
    """The fault plan in force."""
    return jsonify(current_sandbox().faults.plan.as_json())


@bp.post("/Faults")
def set_faults() -> Response:
    """Fail ErrorShare of REST requests with ErrorStatus, and delay DelayShare by DelaySeconds."""
    form = request.form
    try:
        status = int(form.get("ErrorStatus", 500))
        seed = int(form["Seed"]) if "Seed" in form else None
    except ValueError:
        raise TwilioApiError(400, 20001, "ErrorStatus and Seed must be integers") from None
    plan = FaultPlan(
        error_status=status,
        error_share=_float("ErrorShare", 0.0, 0, 1),
        delay_seconds=_float("DelaySeconds", 0.0, 0, 120),
        delay_share=_float("DelayShare", 0.0, 0, 1),
        path_prefix=form.get("PathPrefix", ""),
    )
    current_sandbox().faults.set_plan(plan, seed)
    return jsonify(plan.as_json())


@bp.delete("/Faults")
def clear_faults() -> tuple[str, int]:
    """Stop injecting faults."""
    current_sandbox().faults.set_plan(FaultPlan())
    return "", 204


@bp.get("/Rooms/<room>/Hearing")
def hearing(room: str) -> Response:
    """Whom each connected participant of a room (SID or in-progress name) hears, after the
    Subscribe Rules in force: their identities, in order of arrival."""
    state = current_sandbox().state
    found = state.find_room(room)
    with state.lock:
        people = state.participants_of(found.sid, "connected")
        heard = state.media.hearing(people)
    listing = [
        {
            "identity": h.participant.identity,
            "participant_sid": h.participant.sid,
            "hears": list(h.hears),
        }
        for h in heard
    ]
    return jsonify(room_sid=found.sid, room_name=found.unique_name, participants=listing)


@bp.get("/Errors")
def list_errors() -> Response:
    """Errors hit while playing calls (12100, 11200, 53205 …), optionally for one CallSid."""
    wanted = request.args.get("CallSid")
    errors = [
        {
            "call_sid": e.call_sid,
            "code": e.code,
            "message": e.message,
            "url": e.url,
            "date": iso8601(e.date),
            "more_info": f"https://www.twilio.com/docs/errors/{e.code}",
        }
        for e in current_sandbox().errors
        if wanted is None or e.call_sid == wanted
    ]
    return jsonify(errors=errors)
