"""`switchboard server`: the team server (webhook + team API + event stream) on PostgreSQL.

switchboard server --database URL --public-url URL [--host] [--port] [--workers N]
switchboard server migrate [--database URL]
switchboard server operator add NAME | list | revoke NAME [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from console.commands import arguments

PROG = "switchboard server"


def _database_option(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    parser.add_argument(
        "--database",
        default=argparse.SUPPRESS if suppress else None,
        metavar="URL",
        help="postgresql://user:password@host/db (default: $SWITCHBOARD_DATABASE_URL); "
        "TLS through ?sslmode=require",
    )


def _account_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--account",
        default=argparse.SUPPRESS,
        metavar="AC…",
        help="the Twilio Account SID the team works in (default: the one of the credentials)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard server` and its subcommands."""
    parser = sub.add_parser(
        "server",
        help="serve a team: the webhook, the team API and event stream, state in PostgreSQL",
        description="Serve the webhook and the team API from PostgreSQL. Twilio credentials "
        "come from the environment (TWILIO_*) or the keyring; SWITCHBOARD_TWILIO_URL points "
        "them at a sandbox.",
    )
    _database_option(parser)
    _account_option(parser)
    parser.add_argument("--public-url", default="", help="the URL Twilio reaches this server at")
    arguments.add_listen_options(parser, 8080)
    parser.add_argument(
        "--workers",
        type=arguments.count(1, 64),
        default=0,
        metavar="N",
        help="processes sharing the port (default: one per core, at most 4)",
    )
    parser.add_argument("--spool", default="", metavar="DIR", help="where events wait while "
                        "the database is down (default: the user data directory)")  # fmt: skip
    parser.add_argument("--default-room", default="", help="room for calls no route matches")
    parser.add_argument(
        "--insecure-skip-signature",
        action="store_true",
        help="DANGEROUS: accept requests without a valid X-Twilio-Signature",
    )
    actions = parser.add_subparsers(
        dest="server_action",
        metavar="ACTION",
        title="actions (without one, the server serves)",
    )
    migrate = actions.add_parser("migrate", help="create or upgrade the database schema")
    _database_option(migrate, suppress=True)
    check = actions.add_parser(
        "check", help="check the database: reachable, schema version, LISTEN/NOTIFY round trip"
    )
    _database_option(check, suppress=True)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    operator = actions.add_parser("operator", help="add, list or revoke operators")
    _database_option(operator, suppress=True)
    _account_option(operator)
    what = operator.add_subparsers(dest="operator_action", metavar="add|list|revoke")
    what.required = True
    add = what.add_parser("add", help="add an operator and print their token (once)")
    add.add_argument("name")
    listing = what.add_parser("list", help="list the operators")
    listing.add_argument("--all", action="store_true", help="revoked ones too")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = what.add_parser("revoke", help="revoke an operator's token")
    revoke.add_argument("name")
    for leaf in (add, listing, revoke):
        _database_option(leaf, suppress=True)
        _account_option(leaf)
    # Set after the actions, whose usage lines are built from the plain one.
    parser.usage = f"{PROG} [options]\n       {PROG} {{migrate,check,operator}} ..."
    parser.set_defaults(handler=run)


def _fail(message: str, status: int = 1) -> int:
    """The error in one line on stderr, without any password; status to exit with."""
    from server.secret_filter import clean

    text = " ".join(clean(message).split())
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)
    return status


def _database_url(args: argparse.Namespace) -> str:
    from server.database_url import database_url_from_env

    return getattr(args, "database", None) or database_url_from_env()


def _credentials():
    """The team's Twilio credentials: environment first, then the keyring (as the console)."""
    from console.core.credentials import resolve_credentials
    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore

    return resolve_credentials(Preferences.default(), SecretStore(), os.environ)


def _account(args: argparse.Namespace) -> str:
    given = getattr(args, "account", "")
    if given:
        return given
    credentials = _credentials()
    if credentials is not None:
        return credentials.account_sid
    from console.core.credentials import ENV_ACCOUNT_SID

    return os.environ.get(ENV_ACCOUNT_SID, "").strip()


def run(args: argparse.Namespace) -> int:
    """Dispatch to serve, migrate or operator."""
    from server import secret_filter
    from server.database import DatabaseError
    from server.migrations import SchemaError

    url = _database_url(args)
    secret_filter.protect(url)
    secret_filter.install()
    try:
        if args.server_action == "migrate":
            return _migrate(url)
        if args.server_action == "operator":
            return _operator(args, url)
        if args.server_action == "check":
            return _check(args, url)
        return _serve(args, url)
    except (DatabaseError, SchemaError) as error:
        return _fail(str(error))
    except Exception as error:  # one line, never a traceback (which could quote the URL)
        return _fail(f"unexpected error: {type(error).__name__}: {error}")


def _migrate(url: str) -> int:
    from server.database import connect_once, redact
    from server.migrations import LATEST, migrate, schema_version

    with connect_once(url) as connection:
        before = schema_version(connection)
        applied = migrate(connection, progress=lambda line: print(line, flush=True))
    if applied:
        print(f"The database {redact(url)} is at schema version {applied[-1]}.", flush=True)
    else:
        print(f"The database {redact(url)} is up to date (version {max(before, LATEST)}).")
    return 0


def _check(args: argparse.Namespace, url: str) -> int:
    from server.database import DatabaseError
    from server.database_check import check_database

    if not url:
        raise DatabaseError("No database given: pass --database postgresql://… or set "
                            "SWITCHBOARD_DATABASE_URL.")  # fmt: skip
    report = check_database(url)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False), flush=True)
    else:
        for line in report.lines():
            print(line, flush=True)
    return 0 if report.ok else 1


def _operator(args: argparse.Namespace, url: str) -> int:
    from server import operators
    from server.database import connect_once
    from server.migrations import check_schema

    account = _account(args)
    if not account:
        return _fail("no Account SID: pass --account AC… or set TWILIO_ACCOUNT_SID", 2)
    with connect_once(url) as connection:
        check_schema(connection)
        try:
            if args.operator_action == "add":
                operator, token = operators.add(connection, account, args.name)
                print(f"Operator {operator.name} added. Their token (shown only this once):")
                print(token, flush=True)
                return 0
            if args.operator_action == "revoke":
                operator = operators.revoke(connection, account, args.name)
                print(f"Operator {operator.name}'s token is revoked.", flush=True)
                return 0
            found = operators.listed(connection, account, everyone=args.all)
        except operators.OperatorError as error:
            return _fail(str(error), 2)
    if args.json:
        rows = [
            {"name": o.name, "created": o.created_at.isoformat(), "active": o.active} for o in found
        ]
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for o in found:
            state = "" if o.active else f"  (revoked {o.revoked_at:%Y-%m-%d %H:%M})"
            print(f"{o.name}  added {o.created_at:%Y-%m-%d %H:%M}{state}")
        if not found:
            print("No operators yet: add one with `switchboard server operator add NAME`.")
    return 0


def _config(args: argparse.Namespace, url: str) -> dict[str, Any] | int:
    from server import secret_filter
    from server.database import connect_once
    from server.migrations import check_schema

    credentials = _credentials()
    if credentials is not None:  # kept out of every log line, as the database password is
        secret_filter.protect_values(credentials.auth_token, credentials.api_secret)
    if credentials is None:
        return _fail(
            "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or an API key "
            "and secret), or store them with the console's Settings",
            2,
        )
    if not credentials.auth_token and not args.insecure_skip_signature:
        return _fail(
            "no Auth Token, so Twilio's signatures cannot be checked; set TWILIO_AUTH_TOKEN, "
            "or pass --insecure-skip-signature for experiments",
            2,
        )
    with connect_once(url) as connection:  # a clear error before any process starts
        check_schema(connection)
    return {
        "DATABASE_URL": url,
        "ACCOUNT_SID": getattr(args, "account", "") or credentials.account_sid,
        "TWILIO_LOGIN": credentials.client_login(),
        "AUTH_TOKEN": credentials.auth_token,
        "PUBLIC_URL": args.public_url,
        "DEFAULT_ROOM": args.default_room,
        "SKIP_SIGNATURE": args.insecure_skip_signature,
        "SPOOL_DIR": args.spool,
    }


def _announce(config: dict[str, Any], url: str, how: str) -> None:
    from server.database import redact

    if config["SKIP_SIGNATURE"]:
        print("WARNING: signature checks are OFF (--insecure-skip-signature)", file=sys.stderr)
    print(f"Team server listening on {url} ({how})", flush=True)
    print(f"Public URL: {config['PUBLIC_URL'] or url}", flush=True)
    print(f"Database: {redact(config['DATABASE_URL'])}", flush=True)
    print(f"Team API: {url}/team/v1/", flush=True)


def _serve(args: argparse.Namespace, url: str) -> int:
    from console.commands.serving import serve_until_signal, stop_signals
    from server.serving import serve_in_process, serve_with_workers
    from webhook.server import PortInUse, listen, local_url
    from webhook.workers import default_workers

    config = _config(args, url)
    if isinstance(config, int):
        return config
    workers = args.workers or default_workers()
    with stop_signals() as stop:
        try:
            if workers == 1:
                server, halt = serve_in_process(config, args.host, args.port)
                _announce(config, server.local_url, "1 process")
                return serve_until_signal("Team server", halt, stop=stop)
            listener = listen(args.host, args.port)
        except PortInUse as error:
            return _fail(str(error.strerror))
        address = local_url(args.host, listener.getsockname()[1])
        config["PUBLIC_URL"] = config["PUBLIC_URL"] or address  # the same in every worker

        def ready() -> None:
            _announce(config, address, f"{workers} worker processes")
            print("Press Ctrl-C to stop.", flush=True)
            if stop.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

        import logging

        level = logging.getLogger().getEffectiveLevel()
        if serve_with_workers(listener, config, workers, on_ready=ready, level=level) != 0:
            return _fail("a worker process could not start (see the log above)")
    print("Team server stopped.", flush=True)
    return 0
