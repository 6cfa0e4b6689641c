"""`switchboard dial`: one call into a room, recorded, checked first, and never placed twice."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from console.commands import arguments
from console.commands.scripting import EXIT_USAGE, CommandError, connect, one_line, reported
from console.core.calls.dial_input import (
    InvalidInput,
    check_identity,
    check_room,
    normalize_destination,
)
from console.core.calls.records import Call, Room
from webhook.names import free_identity

if TYPE_CHECKING:  # the SDK and SQLite load when a command runs, not when the CLI starts
    from console.core.calls.history import CallHistory
    from console.core.gateways.gateway import Gateway

DEFAULT_TIMEOUT = 90.0
POLL_SECONDS = 0.5
ROOM_EXISTS = 53113
CALLBACK_GRACE = 2.0  # seconds a failed call's final callback may take to be recorded


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard dial`."""
    dial = sub.add_parser("dial", help="dial a number or sip: address into a room")
    dial.add_argument("to", metavar="TO", help="E.164 number, a local number, or sip: URI")
    dial.add_argument("--room", required=True, help="room to join (created when missing)")
    dial.add_argument("--identity", default="", help="participant identity (default: Twilio's)")
    dial.add_argument(
        "--from", dest="from_", default="", metavar="NUMBER", help="caller ID (default: last used)"
    )
    dial.add_argument(
        "--webhook-url",
        default="",
        help="public URL of the webhook (default: http://127.0.0.1:<webhook port setting>)",
    )
    dial.add_argument("--wait", action="store_true", help="return once joined (0) or failed")
    dial.add_argument(
        "--timeout",
        type=arguments.seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds --wait waits (default {DEFAULT_TIMEOUT:g})",
    )
    dial.set_defaults(handler=reported(run_dial))


def _webhook_url(given: str, port: int) -> str:
    url = (given or (f"http://127.0.0.1:{port}" if port else "")).rstrip("/")
    if not url:
        raise CommandError(
            "the webhook port setting is 0 (any free port), so its URL is unknown: "
            "pass --webhook-url",
            EXIT_USAGE,
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"--webhook-url must be an http(s) URL, not {given!r}", EXIT_USAGE)
    return url


def _caller_id(gateway: Gateway, given: str, last_from: str, region: str) -> str:
    """--from as typed, else the last caller ID if the account still owns it, else its first."""
    if given.strip():
        text = given.strip()
        if text.lower().startswith(("sip:", "client:")):
            return text
        try:
            return normalize_destination(text, region)
        except InvalidInput as error:
            raise InvalidInput("--from", error.message) from None
    owned = [number.number for number in gateway.list_numbers()]
    if last_from in owned:
        return last_from
    if owned:
        return owned[0]
    raise CommandError(
        "the account has no phone numbers to call from: pass --from with a number it owns "
        "or a verified caller ID",
        EXIT_USAGE,
    )


def _room(gateway: Gateway, name: str, webhook: str) -> Room:
    """The in-progress room with this name, created (group) when missing."""
    from console.core.gateways.gateway import TwilioError

    room = gateway.find_room(name)
    if room is not None:
        return room
    try:
        return gateway.create_room(name, status_callback=f"{webhook}/video/status")
    except TwilioError as error:
        if error.code != ROOM_EXISTS:
            raise
    room = gateway.find_room(name)  # someone else created it meanwhile
    if room is None:
        raise CommandError(f"room {name} exists but is not in progress")
    return room


class _Recorder:
    """The history as the dial sees it once the call is placed: a failure is told, not fatal.

    A call that is already ringing must still be waited for and reported; a dial that exited
    1 here would make the operator redial and place a second call.
    """

    def __init__(self, history: CallHistory | None) -> None:
        self.history = history  # None in a team: the server records the call
        self.problem = ""

    def _guard(self, write: Callable[[], object]) -> None:
        from console.core.calls.history import HistoryError

        if self.history is None:
            return
        try:
            write()
        except HistoryError as error:
            if not self.problem:
                self.problem = str(error)
                print(
                    f"switchboard dial: warning: the call history could not be written: "
                    f"{one_line(error)}",
                    file=sys.stderr,
                    flush=True,
                )

    def record_call(self, call: Call) -> None:
        """Record the placed call."""
        self._guard(lambda: self.history.record_call(call))  # type: ignore[union-attr]

    def record_status(self, sid: str, status: str, **details: Any) -> None:
        """Record one status the dial saw."""
        self._guard(
            lambda: self.history.record_status(sid, status, datetime.now(UTC), **details)  # type: ignore[union-attr]
        )

    def recorded_error(self, sid: str) -> tuple[str, str]:
        """(code, message) the webhook recorded from the call's final callback, if any."""
        from console.core.calls.history import HistoryError

        if self.history is None:
            return "", ""
        try:
            rows = self.history.search(text=sid, limit=1)
        except HistoryError:
            return "", ""
        return (rows[0].error_code, rows[0].error_message) if rows else ("", "")

    def note(self) -> str:
        """What the operator must know about the history, for the closing line."""
        return f"; the call history could not be written ({self.problem})" if self.problem else ""


def _check_webhook(webhook: str) -> None:
    """Refuse to dial when the webhook does not answer through the URL Twilio will use."""
    from console.core.self_check import check_public_webhook

    result = check_public_webhook(webhook)
    if not result.ok:
        raise CommandError(
            f"not dialing: the webhook does not answer at {webhook} ({result.reason}), so Twilio "
            "could not fetch the call's instructions (error 11200). Start the console or "
            "`switchboard webhook`, or pass --webhook-url with the URL it answers at"
        )


def run_dial(args: argparse.Namespace) -> int:
    """Dial one number into a room (creating it); with --wait, until joined or failed.

    In a team (SWITCHBOARD_SERVER and SWITCHBOARD_TOKEN set) the server places the call and
    records it in the team's history; here the local history and webhook are not involved.
    """
    from console.core.calls.history import CallHistory
    from console.core.calls.records import CALL_EVENTS
    from console.core.gateways.team_gateway import TeamGateway

    room_name, identity = check_room(args.room), check_identity(args.identity)
    gateway, preferences = connect()
    team = isinstance(gateway, TeamGateway)
    region = preferences.region
    to = normalize_destination(args.to, region)
    webhook = gateway.server if team else _webhook_url(args.webhook_url, preferences.webhook_port)
    # Before dialing: a call that cannot be recorded is not placed.
    history = None if team else CallHistory()
    try:
        if history is not None:
            history.check_writable()
            _check_webhook(webhook)
        from_ = _caller_id(gateway, args.from_, preferences.last_from, region)
        room = _room(gateway, room_name, webhook)
        present = gateway.list_participants(room.sid)
        taken = {p.identity for p in present}
        if identity and identity in taken:
            other = free_identity(identity, taken)
            raise CommandError(
                f"{identity} is already in room {room_name}, and a second {identity} would "
                f"disconnect the first; choose another identity, e.g. {other}",
                EXIT_USAGE,
            )
        url = f"{webhook}/voice/outbound?{urlencode({'room': room_name, 'identity': identity})}"
        call = gateway.place_call(to, from_, url, f"{webhook}/voice/status", CALL_EVENTS)
        call = replace(call, room=room_name, identity=identity, placed_at=datetime.now(UTC))
        print(f"Calling {to} from {from_} into {room_name} as {identity or '(any)'}: {call.sid}")
        sys.stdout.flush()  # the SID is out even if recording it fails
        recorder = _Recorder(history)
        recorder.record_call(call)
        if not args.wait:
            print(_where_statuses_go(webhook, history))
            return 0
        before = {p.sid for p in present}
        return _wait(gateway, recorder, call, room, before, args.timeout)
    finally:
        if history is not None:
            history.close()


def _where_statuses_go(webhook: str, history: CallHistory | None) -> str:
    if history is None:
        return (
            f"Not waiting (--wait waits for the join). The team server at {webhook} records the "
            "call's later statuses in the team's history."
        )
    return (
        f"Not waiting (--wait waits for the join). Twilio reports the call's later statuses to "
        f"{webhook}/voice/status; Switchboard's webhook there (the console or `switchboard "
        f"webhook`) records them in its call history, on this machine {history.path}."
    )


def _wait(
    gateway: Gateway,
    recorder: _Recorder,
    call: Call,
    room: Room,
    before: set[str],
    timeout: float,
) -> int:
    """Poll the call and the room until the callee joined (0) or the call ended (CommandError)."""
    deadline = time.monotonic() + timeout
    seen = {call.status}
    while True:
        now = gateway.fetch_call(call.sid)
        if now.status not in seen:
            seen.add(now.status)
            duration = now.duration if now.finished else None
            recorder.record_status(call.sid, now.status, duration=duration)
        if now.finished:
            raise CommandError(_ended(gateway, recorder, now, room.unique_name) + recorder.note())
        if now.status == "in-progress":
            for person in gateway.list_participants(room.sid):
                ours = person.identity == call.identity if call.identity else None
                if ours or (ours is None and person.sid not in before):
                    print(f"{person.identity} joined {room.unique_name} ({call.sid})")
                    if recorder.problem:
                        print(f"switchboard dial: {recorder.note()[2:]}", file=sys.stderr)
                    return 0
        left = deadline - time.monotonic()
        if left <= 0:
            raise CommandError(
                f"gave up after {timeout:g} s: call {call.sid} to {call.to} is {now.status} and "
                f"has not joined {room.unique_name}" + recorder.note()
            )
        time.sleep(min(POLL_SECONDS, left))  # the poll interval; the deadline bounds the wait


def _ended(gateway: Gateway, recorder: _Recorder, call: Call, room: str) -> str:
    """Why the call failed, in one line, with the error code and message Twilio gave."""
    code, message = _call_error(gateway, recorder, call.sid)
    if code:
        recorder.record_status(call.sid, call.status, error_code=code, error_message=message)
    reason = (
        f" (error {code}: {message})" if code and message else (f" (error {code})" if code else "")
    )
    return f"call {call.sid} to {call.to} ended {call.status} without joining {room}{reason}"


def _call_error(gateway: Gateway, recorder: _Recorder, sid: str) -> tuple[str, str]:
    """The call's error: from Twilio's log (Notifications), else the webhook's final callback."""
    from console.core.gateways.gateway import TwilioError

    deadline = time.monotonic() + CALLBACK_GRACE
    while True:
        try:
            errors = gateway.call_errors(sid)
        except TwilioError:
            errors = []
        if errors:
            return str(errors[0][0]), errors[0][1]
        code, message = recorder.recorded_error(sid)
        if code or time.monotonic() >= deadline:
            return code, message
        time.sleep(POLL_SECONDS / 2)  # the final callback may still be on its way
