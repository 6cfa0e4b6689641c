"""`switchboard waiting`, `claim` and `routes`: the team's waiting line and routes for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from console.commands import arguments
from console.commands.scripting import (
    EXIT_USAGE,
    CommandError,
    connect,
    in_a_team,
    one_line,
    reported,
)
from console.core.calls.dial_input import check_identity, check_room

if TYPE_CHECKING:  # the HTTP client loads when a command runs, not when the CLI starts
    from console.core.gateways.team_gateway import TeamGateway
    from console.core.gateways.team_records import TeamCaller

EXIT_HELD = 3  # `claim`: another operator already holds the caller
NEEDS_TEAM = (
    "this command needs a team server: set SWITCHBOARD_SERVER and SWITCHBOARD_TOKEN "
    "(or Settings ▸ Team)"
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard waiting`, `switchboard claim` and `switchboard routes`."""
    waiting = sub.add_parser("waiting", help="list the team's waiting callers and their claims")
    waiting.add_argument("--json", action="store_true", help="print JSON instead of a table")
    waiting.set_defaults(handler=reported(run_waiting))

    claim = sub.add_parser(
        "claim", help="claim a waiting caller and put them in a room (exit 3: someone else has)"
    )
    claim.add_argument("call_sid", metavar="CALL_SID", help="the waiting caller's call SID")
    claim.add_argument("--room", required=True, help="room to put the caller in")
    claim.add_argument("--identity", default="", help="the caller's identity in the room")
    claim.set_defaults(handler=reported(run_claim))

    routes = sub.add_parser("routes", help="show or replace the team's routes for incoming calls")
    actions = routes.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the team's routes as routes.toml")
    show.set_defaults(handler=reported(run_routes_show))
    load = actions.add_parser("import", help="replace the team's routes with a routes.toml file")
    load.add_argument("file", type=arguments.file_path, metavar="FILE", help="a routes.toml file")
    load.add_argument(
        "--if-version",
        type=arguments.count(0, 2**63 - 1),
        default=None,
        metavar="N",
        help="replace them only if they are still at version N (as `routes show` reported)",
    )
    load.set_defaults(handler=reported(run_routes_import))


def _team() -> TeamGateway:
    """The team server's gateway, as this operator; a clear usage error without a team."""
    from console.core.gateways.team_gateway import TeamGateway

    try:
        gateway, _ = connect()
    except CommandError:
        if in_a_team():  # a team half set up: connect() says what is missing
            raise
        raise CommandError(NEEDS_TEAM, EXIT_USAGE) from None
    if not isinstance(gateway, TeamGateway):
        raise CommandError(NEEDS_TEAM, EXIT_USAGE)
    return gateway


def _waited(since: datetime) -> str:
    seconds = max(0, int((datetime.now(since.tzinfo) - since).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _as_json(caller: TeamCaller) -> dict[str, object]:
    return {
        "call_sid": caller.call_sid,
        "from": caller.from_,
        "to": caller.to,
        "identity": caller.identity,
        "since": caller.since.isoformat(),
        "state": caller.state,
        "claimed_by": caller.claimed_by,
        "claimed_at": caller.claimed_at.isoformat() if caller.claimed_at else None,
        "room": caller.room,
    }


def run_waiting(args: argparse.Namespace) -> int:
    """Print the callers waiting now, longest-waiting first, with who is handling each."""
    callers = _team().waiting()
    if args.json:
        print(json.dumps([_as_json(caller) for caller in callers], indent=2, ensure_ascii=False))
        return 0
    if not callers:
        print("No callers waiting.")
        return 0
    rows = [("CALL SID", "FROM", "TO", "WAITING", "HANDLED BY")] + [
        (c.call_sid, c.from_, c.to, _waited(c.since), c.claimed_by or "nobody yet") for c in callers
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for *cells, holder in rows:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + holder)
    return 0


def run_claim(args: argparse.Namespace) -> int:
    """Claim a waiting caller and put them in a room: 0 when won, 3 when another operator holds
    them (who, on stderr)."""
    from console.core.gateways.team_records import ClaimedByOther

    room, identity = check_room(args.room), check_identity(args.identity)
    gateway = _team()
    try:
        placed, joined_as = gateway.place_waiting(args.call_sid, room, identity)
    except ClaimedByOther as error:
        message = f"{error.message} Caller {args.call_sid} was not moved."
        print(f"switchboard claim: {one_line(message)}", file=sys.stderr, flush=True)
        return EXIT_HELD
    print(f"Claimed {args.call_sid}: joining {placed} as {joined_as}")
    return 0


def run_routes_show(args: argparse.Namespace) -> int:
    """Print the team's routes as routes.toml; their version goes to stderr."""
    routes = _team().routes()
    if routes.toml:
        print(routes.toml, end="" if routes.toml.endswith("\n") else "\n")
        sys.stdout.flush()
        note = (
            f"version {routes.version} of the team's routes (`routes import --if-version "
            f"{routes.version}` replaces them only if nobody changed them meanwhile)"
        )
    else:
        note = "the team has no routes yet (version 0)"
    print(f"switchboard routes: {note}", file=sys.stderr, flush=True)
    return 0


def run_routes_import(args: argparse.Namespace) -> int:
    """Replace the team's routes with a routes.toml file, checked here first as the webhook
    checks it; a change made meanwhile by another operator is told, never overwritten."""
    from console.core.gateways.team_records import TeamRoutesChanged, TeamRoutesInvalid
    from webhook.routes import RoutesError
    from webhook.routes_file import read_routes

    try:
        read_routes(args.file)  # too large, unreadable, not UTF-8 or not valid: said here
        text = args.file.read_text(encoding="utf-8")
    except RoutesError as error:
        raise CommandError(f"not imported: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"not imported: {args.file} cannot be read: {error}") from None
    gateway = _team()
    version = args.if_version if args.if_version is not None else gateway.routes().version
    try:
        saved = gateway.replace_routes(text, version)
    except TeamRoutesInvalid as error:
        where = RoutesError(error.problem, error.line, error.key, str(args.file))
        raise CommandError(f"not imported: {where}") from None
    except TeamRoutesChanged as error:
        raise CommandError(
            f"not imported: another operator changed the team's routes (now version "
            f"{error.current.version}, you started from {version}); look at them with "
            "`switchboard routes show` and import again"
        ) from None
    print(f"The team's routes are now version {saved.version}, from {args.file}.")
    return 0
