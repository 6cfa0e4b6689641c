"""`switchboard doctor`: says whether everything a live call needs is in place, and if not, why."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from console.commands import arguments

if TYPE_CHECKING:
    from console.core.diagnosis import Report


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard doctor`."""
    parser = sub.add_parser(
        "doctor",
        help="check credentials, webhook and tunnel before a live call",
        description="Check what a live call needs: Twilio credentials (and whether the API accepts "
        "them), the webhook listening locally, the tunnel and its public URL, and the webhook "
        "answering through it. Exits 0 only when all of it is green. Secrets are never printed.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--webhook-port",
        type=arguments.port,
        default=None,
        metavar="N",
        help="the port the webhook listens on (default: the port in Settings)",
    )
    parser.add_argument(
        "--ngrok-api",
        default=None,
        metavar="URL",
        help="check the tunnel of a running ngrok agent whose API answers at URL (e.g. "
        "http://127.0.0.1:4040), whatever tunnel Settings choose; without it, the tunnel chosen "
        "in Settings is checked (an agent's API at the URL in Settings, http://127.0.0.1:4040 "
        "by default)",
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="also check a team server's PostgreSQL: reachable, schema version, LISTEN/NOTIFY "
        "(default: SWITCHBOARD_DATABASE_URL when it is set)",
    )
    parser.set_defaults(handler=run)


def _print(text: str) -> None:
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # a terminal that cannot show ✓ / ✗
        print(text.encode("ascii", "replace").decode("ascii"), flush=True)


def run(args: argparse.Namespace) -> int:
    """Print the report; exit status 0 only when a live call would work."""
    try:  # imported here: every other subcommand builds this parser too
        from console.core.diagnosis import diagnose
        from console.core.preferences import Preferences
        from console.core.secrets_store import SecretStore

        report = diagnose(
            Preferences.default(), SecretStore(), os.environ, args.webhook_port, args.ngrok_api
        )
        _check_database(report, args.database)
    except Exception as error:  # a report, never a traceback
        from server.secret_filter import clean

        detail = " ".join(clean(f"{type(error).__name__}: {error}").split())
        print(f"switchboard doctor: could not finish: {detail}", file=sys.stderr)
        return 2
    if args.json:
        _print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for line in report.lines():
            _print(line)
    return 0 if report.ok else 1


def _check_database(report: Report, given: str | None) -> None:
    """Add the team database's check to the report, when a database is given."""
    from server.database_url import database_url_from_env

    url = given if given is not None else database_url_from_env()
    if not url:
        return
    from server import secret_filter
    from server.database_check import check_database

    secret_filter.protect(url)
    found = check_database(url)
    report.database = found.as_json()
    report.add("database", found.ok, "; ".join(line.strip() for line in found.lines()))
