"""`switchboard rooms`, `dial` and `history`: the console's work for scripts, errors in one line."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from console.core.dial_input import (
    InvalidInput,
    check_identity,
    check_room,
    normalize_destination,
)
from console.core.records import Call, Room
from webhook.names import free_identity

if TYPE_CHECKING:  # the SDK and SQLite load when a command runs, not when the CLI starts
    from console.core.gateway import Gateway
    from console.core.history import CallHistory
    from console.core.preferences import Preferences

EXIT_FAILED = 1  # Twilio, the network, the call itself, or the history file
EXIT_USAGE = 2  # what was typed, or settings that are missing
DEFAULT_TIMEOUT = 90.0
POLL_SECONDS = 0.5
TABLE_LIMIT = 50
ROOM_EXISTS = 53113


class CommandError(Exception):
    """An error a command reports in one line on stderr, with the exit status to return."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _reported(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Run a command; any error becomes one line on stderr and a non-zero exit, never a trace."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from console.core.gateway import TwilioError
        from console.core.history import HistoryError

        if not getattr(args, "verbose", False):  # stderr carries the one error line, no logs
            logging.getLogger().setLevel(logging.CRITICAL)
        try:
            return command(args)
        except CommandError as error:
            message, status = str(error), error.status
        except InvalidInput as error:
            message, status = f"{error.field}: {error.message}", EXIT_USAGE
        except (TwilioError, HistoryError) as error:
            message, status = str(error), EXIT_FAILED
        except BrokenPipeError:  # e.g. `switchboard history --csv | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILED
        except Exception as error:
            message, status = f"unexpected error: {type(error).__name__}: {error}", EXIT_FAILED
        print(f"switchboard {args.command}: {_one_line(message)}", file=sys.stderr, flush=True)
        return status

    return run


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard rooms`, `switchboard dial` and `switchboard history`."""
    rooms = sub.add_parser("rooms", help="list in-progress rooms and their participants")
    rooms.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rooms.set_defaults(handler=_reported(run_rooms))

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
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds --wait waits (default {DEFAULT_TIMEOUT:g})",
    )
    dial.set_defaults(handler=_reported(run_dial))

    history = sub.add_parser("history", help="print the call history, newest first")
    history.add_argument("--csv", action="store_true", help="print CSV (every call by default)")
    history.add_argument(
        "--limit", type=int, default=None, help=f"at most N calls (table default {TABLE_LIMIT})"
    )
    history.set_defaults(handler=_reported(run_history))


def _connect() -> tuple[Gateway, Preferences]:
    """The gateway the window would use (same settings and credentials), and the preferences."""
    from console.core.credentials import resolve_credentials
    from console.core.gateway import Gateway
    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore
    from console.core.twilio_http import make_client

    preferences = Preferences.default()
    credentials = resolve_credentials(preferences, SecretStore(), os.environ)
    if credentials is None:
        raise CommandError(
            "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or "
            "TWILIO_API_KEY and TWILIO_API_SECRET), or save them in the window's settings",
            EXIT_USAGE,
        )
    username, password, account_sid = credentials.client_login()
    return Gateway(make_client(username, password, account_sid=account_sid)), preferences


def run_rooms(args: argparse.Namespace) -> int:
    """Print the in-progress rooms with their participants."""
    gateway, _ = _connect()
    listing = [
        {
            "sid": room.sid,
            "name": room.unique_name,
            "type": room.type,
            "participants": [
                {"identity": p.identity, "status": p.status, "sid": p.sid}
                for p in gateway.list_participants(room.sid)
            ],
        }
        for room in gateway.list_rooms()
    ]
    if args.json:
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return 0
    if not listing:
        print("No rooms in progress.")
    for room in listing:
        count = len(room["participants"])
        print(f"{room['name']}  {room['type']}  {room['sid']}  {count} participant(s)")
        for person in room["participants"]:
            print(f"    {person['identity']}  {person['status']}  {person['sid']}")
    return 0


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
    from console.core.gateway import TwilioError

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


def run_dial(args: argparse.Namespace) -> int:
    """Dial one number into a room (creating it); with --wait, until joined or failed."""
    from console.core.history import CallHistory
    from console.core.records import CALL_EVENTS

    if args.timeout <= 0:
        raise CommandError("--timeout must be a positive number of seconds", EXIT_USAGE)
    room_name, identity = check_room(args.room), check_identity(args.identity)
    gateway, preferences = _connect()
    region = preferences.region
    to = normalize_destination(args.to, region)
    webhook = _webhook_url(args.webhook_url, preferences.webhook_port)
    history = CallHistory()  # before dialing: a call that cannot be recorded is not placed
    try:
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
        history.record_call(call)
        if not args.wait:
            return 0
        before = {p.sid for p in present}
        return _wait(gateway, history, call, room, before, args.timeout)
    finally:
        history.close()


def _wait(
    gateway: Gateway,
    history: CallHistory,
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
            history.record_status(call.sid, now.status, datetime.now(UTC), duration=duration)
        if now.finished:
            raise CommandError(_ended(gateway, history, now, room.unique_name))
        if now.status == "in-progress":
            for person in gateway.list_participants(room.sid):
                ours = person.identity == call.identity if call.identity else None
                if ours or (ours is None and person.sid not in before):
                    print(f"{person.identity} joined {room.unique_name} ({call.sid})")
                    return 0
        left = deadline - time.monotonic()
        if left <= 0:
            raise CommandError(
                f"gave up after {timeout:g} s: call {call.sid} to {call.to} is {now.status} and "
                f"has not joined {room.unique_name}"
            )
        time.sleep(min(POLL_SECONDS, left))  # the poll interval; the deadline bounds the wait


def _ended(gateway: Gateway, history: CallHistory, call: Call, room: str) -> str:
    """Why the call failed, in one line with Twilio's error code when Twilio logged one."""
    from console.core.gateway import TwilioError

    try:
        codes = gateway.call_error_codes(call.sid)
    except TwilioError:
        codes = []  # no Notifications for this call (the sandbox keeps none)
    if codes:
        history.record_status(call.sid, call.status, datetime.now(UTC), error_code=str(codes[0]))
    reason = f" (Twilio error {codes[0]})" if codes else ""
    return f"call {call.sid} to {call.to} ended {call.status} without joining {room}{reason}"


def run_history(args: argparse.Namespace) -> int:
    """Print the call history, newest first: a table, or CSV for spreadsheets and scripts."""
    if args.limit is not None and args.limit < 1:
        raise CommandError("--limit must be at least 1", EXIT_USAGE)
    from console.core.history import CallHistory

    limit = args.limit if args.limit is not None else (None if args.csv else TABLE_LIMIT)
    with CallHistory() as history:
        rows = history.search(limit=limit)
        if args.csv:
            history.export_csv(rows, sys.stdout)
            sys.stdout.flush()
            return 0
    if not rows:
        print("No calls yet.")
    for row in rows:
        when = row.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        party = row.from_ if row.direction == "inbound" else row.to
        where = f"{row.room} as {row.identity or '(any)'}" if row.room else "-"
        error = f"  error {row.error_code}: {row.error_message}" if row.error_code else ""
        duration = f"  {row.duration}s" if row.duration is not None else ""
        line = f"{when}  {row.direction or '?':12}  {party:16}  {where}  {row.status}"
        print(line + duration + error)
    return 0
