"""The team's routes for incoming calls, kept in the database as routes.toml text with a version.

Every save is validated exactly as routes.toml is, and takes effect on the next call in every
server process: each incoming call looks at the version (one small query). While the database
is away, calls follow the last routes read; once one read has found it away, the next calls
do not ask again until the database gate sees it back (server/database_gate.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import psycopg

from server import action_log, event_log
from server.database import UNREACHABLE, Database
from server.database_gate import DatabaseGate
from server.operators import Operator
from webhook.routes import RoutingRules, parse_routes

log = logging.getLogger(__name__)

SOURCE = "team routes"  # how errors name the routes (in place of a file name)
READ_TIMEOUT = 1.0  # seconds an incoming call waits for the routes before using the last ones


class RoutesChanged(Exception):
    """The routes changed since the version the editor started from."""

    def __init__(self, current: StoredRoutes) -> None:
        super().__init__(
            f"The routes changed (now version {current.version}) since you opened them; "
            "look at the new version before saving."
        )
        self.current = current


@dataclass(frozen=True)
class StoredRoutes:
    """The routes as stored: their version (0 when never saved), text and rules."""

    version: int
    toml: str
    rules: RoutingRules


def read(connection: psycopg.Connection, account: str) -> StoredRoutes:
    """The account's routes (version 0 and no rules when none were ever saved)."""
    row = connection.execute(
        "SELECT version, toml FROM routes WHERE account = %s", (account,)
    ).fetchone()
    if row is None:
        return StoredRoutes(0, "", RoutingRules())
    version, text = row
    return StoredRoutes(int(version), text, parse_routes(text, SOURCE))


def replace(
    connection: psycopg.Connection,
    account: str,
    text: str,
    expected_version: int,
    operator: Operator | None,
) -> StoredRoutes:
    """Replace the routes if they are still at expected_version; RoutesError when text is bad."""
    rules = parse_routes(text, SOURCE)
    operator_id = operator.id if operator else None
    if expected_version == 0:
        row = connection.execute(
            "INSERT INTO routes (account, version, toml, updated_by) VALUES (%s, 1, %s, %s) "
            "ON CONFLICT (account) DO NOTHING RETURNING version",
            (account, text, operator_id),
        ).fetchone()
    else:
        row = connection.execute(
            "UPDATE routes SET version = version + 1, toml = %s, updated_at = now(), "
            "updated_by = %s WHERE account = %s AND version = %s RETURNING version",
            (text, operator_id, account, expected_version),
        ).fetchone()
    if row is None:
        raise RoutesChanged(read(connection, account))
    version = int(row[0])
    action_log.record(connection, account, operator_id, "routes.replace", {"version": version})
    name = operator.name if operator else ""
    event_log.append(connection, account, "routes.changed", {"version": version, "operator": name})
    return StoredRoutes(version, text, rules)


class DatabaseRoutes:
    """What the webhook's incoming-call routes read on the server: the team's stored routes.

    It stands where the webhook keeps its routes file (webhook.incoming.ROUTES_KEY) and answers
    as webhook.routes_file.RoutesFile does (path, rules, error, check, stop), so the webhook's
    incoming blueprint serves team routes unchanged. Reading `rules` looks at the stored
    version first (one small query), so a save takes effect on the very next call.
    """

    def __init__(
        self, database: Database, account: str, path: Path, gate: DatabaseGate | None = None
    ) -> None:
        self.database = database
        self.account = account
        self.path = path
        self.gate = gate
        self._lock = threading.Lock()
        self._version = -1
        self._rules = RoutingRules()
        self._error = ""

    @property
    def rules(self) -> RoutingRules:
        """The routes in force: the stored ones, or the last read while the database is away."""
        self.refresh()
        return self._rules

    @property
    def error(self) -> str:
        """Why the routes could not be read just now ('' when they were)."""
        return self._error

    @property
    def exists(self) -> bool:
        return self._version > 0

    watching = reading = False  # no file, no watcher thread

    def check(self) -> bool:
        """For the webhook's file-watching callers: nothing to look at (rules reads the db)."""
        return False

    def start(self, look_first: bool = False) -> None:
        """Nothing to watch: every read of `rules` asks the database."""

    def stop(self, timeout: float = 1.0) -> None:
        """Nothing to stop."""

    def refresh(self) -> bool:
        """Look at the stored version, reading the routes when it changed; True when it did."""
        if self.gate is not None and not self.gate.ready:
            self._note(f"routes kept as they were: {self.gate.problem}")
            return False
        try:
            with self.database.pool.connection(timeout=READ_TIMEOUT) as connection:
                row = connection.execute(
                    "SELECT version FROM routes WHERE account = %s", (self.account,)
                ).fetchone()
                version = int(row[0]) if row else 0
                if version == self._version:
                    return False
                stored = read(connection, self.account)
        except Exception as error:  # away, or a pool timeout: calls follow the last routes read
            if self.gate is not None and isinstance(error, UNREACHABLE):
                self.gate.trip(self.database.error(error, "cannot be reached"))
            self._note(f"routes kept as they were: {self.database.error(error)}")
            return False
        with self._lock:
            self._version, self._rules, self._error = stored.version, stored.rules, ""
        log.info("team routes version %d: %d route(s)", stored.version, len(stored.rules.routes))
        return True

    def _note(self, problem: str) -> None:
        if problem != self._error:
            log.warning("%s", problem)
        self._error = problem
