"""`switchboard team-demo`: a whole team on this machine, for training and evaluation.

It starts a throwaway PostgreSQL (or uses $SWITCHBOARD_DATABASE_URL), the offline sandbox, a
team server with two processes pointed at the sandbox, and two operators; then it opens the
console as the first operator and prints the command that opens the second. When the console
closes, or on Ctrl-C or SIGTERM, everything it started is stopped and deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.demo_part import DemoFailed, DemoStopped, Part, end_process

if TYPE_CHECKING:
    from server.local_postgres import LocalPostgres

PROG = "switchboard team-demo"
OPERATORS = ("ada", "grace")
WORKERS = 2
CALLER = "+15551230000"
ROUTES = '# The demo: every caller waits for an operator.\n[[route]]\nnumber = "*"\nhold = true\n'
# The parts run on the sandbox's own test credentials (given in their environment); these
# variables would otherwise leak the operator's real ones into the demo, or the demo's into
# the consoles.
TWILIO_VARIABLES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY",
                    "TWILIO_API_SECRET", "SWITCHBOARD_TWILIO_URL")  # fmt: skip
TEAM_VARIABLES = ("SWITCHBOARD_SERVER", "SWITCHBOARD_TOKEN", "SWITCHBOARD_DATABASE_URL")
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard team-demo`."""
    parser = sub.add_parser(
        "team-demo",
        help="start a whole team on this machine (PostgreSQL, sandbox, server, two operators)",
        description="Start a throwaway team for training and evaluation: PostgreSQL (or "
        "$SWITCHBOARD_DATABASE_URL), the offline sandbox, a team server with two processes and "
        "two operators; open the console as the first. Everything started goes at the end.",
    )
    parser.add_argument(
        "--no-console",
        action="store_true",
        help="open no console: print both operators' commands and wait for Ctrl-C",
    )
    parser.set_defaults(handler=run)


def program() -> list[str]:
    """How to run `switchboard` again from this process (the packaged app is its own program)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "console"]


def _without(names: Sequence[str], **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in names}
    return {**env, **extra}


class TeamDemo:
    """The demo's parts, started in order by start() and all stopped by close()."""

    def __init__(
        self,
        stop: threading.Event,
        say: Callable[[str], object],
        database_url: str = "",
        ring_delay: float = 1.0,
    ) -> None:
        """database_url: a database to use instead of a throwaway PostgreSQL (or the env's)."""
        self.stop, self.say = stop, say
        self.ring_delay = ring_delay
        self.scratch = Path(tempfile.mkdtemp(prefix="switchboard-demo-"))
        self.account = "AC" + secrets.token_hex(16)  # a new account: the demo's rows are its own
        self.auth_token = secrets.token_hex(16)  # the sandbox's test credentials, not Twilio's
        self.postgres: LocalPostgres | None = None
        self.database_url = database_url
        self.external = False
        self.sandbox: Part | None = None
        self.server: Part | None = None
        self.console: subprocess.Popen | None = None
        self.sandbox_url = self.server_url = ""
        self.api_key: tuple[str, str] = ("", "")
        self.tokens: dict[str, str] = {}
        self.numbers: list[str] = []

    def _check(self) -> None:
        if self.stop.is_set():
            raise DemoStopped

    def start(self) -> None:
        """Start every part, saying what it does; DemoFailed or DemoStopped on the way."""
        from server.database_url import database_url_from_env, redact
        from server.local_postgres import LocalPostgres

        self.database_url = self.database_url or database_url_from_env()
        self.external = bool(self.database_url)
        if not self.external:  # PostgresMissing (saying how to install it) before anything starts
            self.postgres = LocalPostgres()
        self.say("Starting the sandbox (offline Twilio)…")
        self.sandbox = Part(
            "sandbox",
            [*program(), "sandbox", "--port", "0", "--ring-delay", str(self.ring_delay)],
            _without(
                TWILIO_VARIABLES + TEAM_VARIABLES,
                TWILIO_ACCOUNT_SID=self.account,
                TWILIO_AUTH_TOKEN=self.auth_token,
                **NO_KEYRING,
            ),
            self.scratch / "sandbox.log",
        )
        if self.external:
            self.say(f"Using the database {redact(self.database_url)}")
        else:
            self._start_postgres()  # while the sandbox starts
        self._check()
        self.sandbox_url = self.sandbox.wait_for(r"Sandbox listening on (\S+)", self.stop)[1]
        key = self.sandbox.wait_for(r"API Key: (\S+)\s+secret: (\S+)", self.stop)
        self.api_key = (key[1], key[2])
        self.sandbox.ready()
        self._prepare_database()
        self._check()
        self._start_server()
        self._route_numbers()

    def _start_postgres(self) -> None:
        assert self.postgres is not None
        self.say("Starting PostgreSQL (a throwaway server)…")
        self.postgres.start()
        self.database_url = self.postgres.create_database("team")
        self.say(f"PostgreSQL data: {self.postgres.root} (deleted at the end)")

    def _prepare_database(self) -> None:
        from server import operators, routes_store
        from server.database import connect_once
        from server.migrations import migrate

        self.say("Preparing the database (migrations, operators, routes)…")
        with connect_once(self.database_url) as connection:
            migrate(connection, progress=lambda line: None)
            for name in OPERATORS:
                self.tokens[name] = operators.add(connection, self.account, name)[1]
            routes_store.replace(connection, self.account, ROUTES, 0, None)

    def _start_server(self) -> None:
        self.say(f"Starting the team server ({WORKERS} processes)…")
        env = _without(
            TWILIO_VARIABLES + TEAM_VARIABLES,
            SWITCHBOARD_DATABASE_URL=self.database_url,  # not in argv, where `ps` shows it
            SWITCHBOARD_TWILIO_URL=self.sandbox_url,
            TWILIO_ACCOUNT_SID=self.account,
            TWILIO_AUTH_TOKEN=self.auth_token,
            TWILIO_API_KEY=self.api_key[0],
            TWILIO_API_SECRET=self.api_key[1],
            **NO_KEYRING,
        )
        command = [*program(), "server", "--port", "0", "--workers", str(WORKERS),
                   "--spool", str(self.scratch / "spool")]  # fmt: skip
        self.server = Part("team server", command, env, self.scratch / "server.log")
        self.server_url = self.server.wait_for(r"listening on (http://\S+)", self.stop)[1]
        self.server.wait_for(r"Press Ctrl-C", self.stop)
        self.server.ready()

    def _route_numbers(self) -> None:
        """The sandbox's numbers ring the team server, as a team's Twilio numbers would."""
        from console.core.gateways.twilio_http import make_client

        client = make_client(self.account, self.auth_token, base_url=self.sandbox_url)
        for number in client.incoming_phone_numbers.list():
            client.incoming_phone_numbers(number.sid).update(
                voice_url=f"{self.server_url}/voice/incoming",
                status_callback=f"{self.server_url}/voice/status",
            )
            self.numbers.append(number.phone_number)

    def console_command(self, name: str) -> str:
        """The shell command that opens the console as one operator."""
        words = [f"SWITCHBOARD_SERVER={self.server_url}", f"SWITCHBOARD_TOKEN={self.tokens[name]}"]
        switchboard = "switchboard" if shutil.which("switchboard") else shlex.join(program())
        return f"{shlex.join(words)} {switchboard}"

    def open_console(self, name: str) -> None:
        """Run the console as one operator (its output goes to this terminal)."""
        env = _without(TWILIO_VARIABLES + TEAM_VARIABLES, SWITCHBOARD_SERVER=self.server_url,
                       SWITCHBOARD_TOKEN=self.tokens[name])  # fmt: skip
        self.console = subprocess.Popen(
            program(), env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def broken_part(self) -> Part | None:
        """A server part that stopped by itself, or None."""
        parts = (self.sandbox, self.server)
        return next((p for p in parts if p and p.process.poll() is not None), None)

    def close(self) -> None:
        """Stop everything started, newest first, and delete what it wrote."""
        if self.console is not None:
            end_process(self.console)
        for part in (self.server, self.sandbox):
            if part is not None:
                part.stop()
        if self.external and self.tokens:
            self._revoke()
        if self.postgres is not None:
            self.postgres.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _revoke(self) -> None:
        """A database that outlives the demo keeps no working demo token."""
        from server import operators
        from server.database import DatabaseError, connect_once

        try:
            with connect_once(self.database_url) as connection:
                for name in self.tokens:
                    with contextlib.suppress(operators.OperatorError):
                        operators.revoke(connection, self.account, name)
        except DatabaseError as error:
            print(f"{PROG}: could not revoke the demo operators: {error}", file=sys.stderr)


@contextlib.contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """Ctrl-C, SIGTERM and a closed terminal (SIGHUP) set the event while the block runs."""
    stop = threading.Event()
    watched = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # not on Windows
        watched.append(signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in watched}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say(line: str) -> None:
    print(line, flush=True)


def _summary(demo: TeamDemo, console: bool) -> None:
    first, second = OPERATORS
    _say("")
    _say("The team demo is ready.")
    _say(f"Team server: {demo.server_url} ({WORKERS} processes)")
    _say(f"Sandbox: {demo.sandbox_url}")
    _say(f"Operators: {', '.join(OPERATORS)}")
    _say(f"Team numbers: {', '.join(demo.numbers)}")
    _say("These tokens are throwaway demo tokens: they open only this demo's team, and stop "
         "working when it ends.")  # fmt: skip
    if not console:
        _say(f"{first}'s console: {demo.console_command(first)}")
    _say(f"{second}'s console: {demo.console_command(second)}")
    if demo.numbers:
        ring = ["curl", "-u", f"{demo.account}:{demo.auth_token}",
                "--data-urlencode", f"From={CALLER}", "--data-urlencode", f"To={demo.numbers[0]}",
                f"{demo.sandbox_url}/sandbox/IncomingCalls"]  # fmt: skip
        _say("A caller rings the team (the sandbox's test credentials, not Twilio's):")
        _say(f"  {shlex.join(ring)}")
    if console:
        _say(f"The console opens as {first}; closing it ends the demo.")
    _say("Press Ctrl-C to stop the demo.")


def _wait(demo: TeamDemo) -> int:
    """Until the first console closes, a signal, or a part stops by itself; the exit status."""
    while not demo.stop.wait(0.5):
        if demo.console is not None and demo.console.poll() is not None:
            status = demo.console.returncode
            if status == 0:
                _say("The console closed.")
                return 0
            print(f"{PROG}: the console exited with status {status} (with no display, use "
                  "--no-console)", file=sys.stderr, flush=True)  # fmt: skip
            return 1
        broken = demo.broken_part()
        if broken is not None:
            print(f"{PROG}: the {broken.name} stopped unexpectedly:\n{broken.tail()}",
                  file=sys.stderr, flush=True)  # fmt: skip
            return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Start the team, open the console (unless --no-console), and clean up at the end."""
    from server.database import DatabaseError
    from server.local_postgres import PostgresFailed, PostgresMissing
    from server.migrations import SchemaError

    status = 0
    with _stop_signals() as stop:
        demo = TeamDemo(stop, _say)
        try:
            demo.start()
            _summary(demo, console=not args.no_console)
            if not args.no_console:
                demo.open_console(OPERATORS[0])
            status = _wait(demo)
        except DemoStopped:
            pass
        except PostgresMissing as error:
            print(f"{PROG}: {error} Or point the demo at a running server with "
                  "SWITCHBOARD_DATABASE_URL=postgresql://….", file=sys.stderr)  # fmt: skip
            status = 2
        except (DemoFailed, PostgresFailed, DatabaseError, SchemaError) as error:
            if not stop.is_set():  # else Ctrl-C also reached a starting program: no failure
                print(f"{PROG}: {error}", file=sys.stderr)
                status = 1
        finally:
            _say("Stopping the team demo…")
            demo.close()
            _say("Team demo stopped: everything it started is gone.")
    return status
