"""`switchboard rooms` and `history`: the console's lists for scripts, errors in one line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from console.commands import arguments, dial_command
from console.commands.scripting import CommandError, connect, in_a_team, reported

if TYPE_CHECKING:
    from console.core.calls.history_store import HistoryReader

TABLE_LIMIT = 50


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard rooms`, `switchboard dial` and `switchboard history`."""
    rooms = sub.add_parser("rooms", help="list in-progress rooms and their participants")
    rooms.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rooms.set_defaults(handler=reported(run_rooms))

    dial_command.add_parser(sub)

    history = sub.add_parser(
        "history",
        help="print the call history, newest first",
        description="Print the call history, newest first, as a table or CSV: the team's from "
        "its PostgreSQL with --database (or SWITCHBOARD_DATABASE_URL), the team server's in a "
        "team (SWITCHBOARD_SERVER, or Settings ▸ Team), else this computer's.",
    )
    history.add_argument("--csv", action="store_true", help="print CSV (every call by default)")
    history.add_argument(
        "--limit",
        type=arguments.count(1, 10**9),
        default=None,
        help=f"at most N calls (table default {TABLE_LIMIT})",
    )
    history.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="read the team's history from the team server's PostgreSQL (postgresql://…) "
        "instead of this computer's (default: $SWITCHBOARD_DATABASE_URL; '' for this computer's)",
    )
    history.add_argument(
        "--account",
        default="",
        metavar="AC…",
        help="with --database: the team's Account SID (default: the one of the credentials)",
    )
    history.set_defaults(handler=reported(run_history))


def run_rooms(args: argparse.Namespace) -> int:
    """Print the in-progress rooms with their participants."""
    gateway, _ = connect()
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


def run_history(args: argparse.Namespace) -> int:
    """Print the call history, newest first: a table, or CSV for spreadsheets and scripts."""
    from console.core.calls.call_reasons import call_reason
    from server.database_url import database_url_from_env

    if args.database is None:
        args.database = database_url_from_env()
    limit = args.limit if args.limit is not None else (None if args.csv else TABLE_LIMIT)
    with _history(args) as history:
        if args.csv:  # read and written a batch at a time, however many calls; a team's with
            history.export_csv(sys.stdout, limit=limit)  # the operator of each call last
            sys.stdout.flush()
            return 0
        rows = history.search(limit=limit)
    if not rows:
        print("No calls yet.")
    for row in rows:
        when = row.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        party = row.from_ if row.direction == "inbound" else row.to
        where = f"{row.room} as {row.identity or '(any)'}" if row.room else "-"
        reason = call_reason(row.final_status or row.status, row.error_code, row.error_message)
        error = f"  {reason}" if reason else ""
        duration = f"  {row.duration}s" if row.duration is not None else ""
        line = f"{when}  {row.direction or '?':12}  {party:16}  {where}  {row.status}"
        print(line + duration + error)
    return 0


@contextlib.contextmanager
def _history(args: argparse.Namespace) -> Iterator[HistoryReader]:
    """This computer's history; the team's with --database, or in a team (server or Settings)."""
    from console.core.calls.history import CallHistory
    from console.core.gateways.team_gateway import TeamGateway

    if args.database:
        with _team_history(args) as history:
            yield history
        return
    gateway, _ = connect() if in_a_team() else (None, None)
    if isinstance(gateway, TeamGateway):
        from console.core.calls.team_history import TeamHistory

        yield TeamHistory(gateway)
        return
    with CallHistory() as history:
        yield history


@contextlib.contextmanager
def _team_history(args: argparse.Namespace) -> Iterator[HistoryReader]:
    """The team's history in PostgreSQL, for one account; errors name no password."""
    from server import secret_filter
    from server.call_store import PostgresHistory
    from server.database import Database, DatabaseError, connect_once

    secret_filter.protect(args.database)
    account = args.account or _account_of_credentials()
    if not account:
        raise CommandError("no Account SID: pass --account AC… or set TWILIO_ACCOUNT_SID", 2)
    try:
        connect_once(args.database).close()  # a refused login fails now, not after a pool's wait
        with Database(args.database, max_size=1) as database:
            yield PostgresHistory(database, account)
    except DatabaseError as error:
        raise CommandError(str(error)) from None


def _account_of_credentials() -> str:
    from console.core.credentials import ENV_ACCOUNT_SID, resolve_credentials
    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore

    credentials = resolve_credentials(Preferences.default(), SecretStore(), os.environ)
    if credentials is not None:
        return credentials.account_sid
    return os.environ.get(ENV_ACCOUNT_SID, "").strip()
