"""A real PostgreSQL for the team server's tests: one server per test run, a database per test.

PostgreSQL's server programs must be installed (Debian: `apt-get install postgresql`; `.ci/run`
installs them). Where they are missing the tests say how to install them; under CI that is a
failure, never a skip.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask
from twilio.rest import Client

from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from server import operators
from server.app import close_app, create_app
from server.database import Database
from server.local_postgres import LocalPostgres, PostgresFailed, PostgresMissing
from server.stream_slots import limit_for
from tests.e2e import conftest as e2e
from webhook import WebhookServer

ACCOUNT = "AC" + "0" * 32
THREADS = 16  # the team server's threads in these tests: 8 for event streams, 8 kept free
sandbox = e2e.sandbox  # fixtures: the offline Twilio the server talks to
sandbox_server = e2e.sandbox_server
_numbers = itertools.count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed for tests/server and CI must have it: {reason}")
    pytest.skip(f"PostgreSQL is needed for these tests: {reason}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A throwaway PostgreSQL server for the whole test run, on a free loopback port."""
    try:
        server = LocalPostgres().start()
    except (PostgresMissing, PostgresFailed) as error:
        _unavailable(str(error))
    yield server
    server.close()


@pytest.fixture
def empty_database(postgres: LocalPostgres) -> str:
    """The URL of a new, empty database on the test run's server."""
    return postgres.create_database(f"test_{os.getpid()}_{next(_numbers)}")


@pytest.fixture
def database_url(empty_database: str) -> str:
    """The URL of a new database with the latest schema."""
    from server.database import connect_once
    from server.migrations import migrate

    with connect_once(empty_database) as connection:
        migrate(connection)
    return empty_database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open connection pool on a migrated database."""
    db = Database(database_url, min_size=1, max_size=4).open()
    yield db
    db.close()


@dataclass
class RunningTeamServer:
    """A team server app served on loopback, over the sandbox, with tokens on demand."""

    url: str
    app: Flask
    database: Database
    account: str
    client: Client  # the SDK on the sandbox, for what Twilio would do (incoming calls, …)

    def token(self, name: str) -> str:
        """A new operator's bearer token."""
        with self.database.connection() as connection:
            return operators.add(connection, self.account, name)[1]

    def session(self, name: str) -> requests.Session:
        """An HTTP session carrying a new operator's token."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token(name)}"
        return session

    def api(self, path: str) -> str:
        return f"{self.url}/team/v1{path}"


@pytest.fixture
def team_server(database, sandbox, sandbox_server, tmp_path) -> Iterator[RunningTeamServer]:
    """The team server app on the sandbox, with the account's numbers routed to it."""
    client = make_client(sandbox.account_sid, sandbox.auth_token, base_url=sandbox_server.url)
    config = {
        "ACCOUNT_SID": sandbox.account_sid,
        "AUTH_TOKEN": sandbox.auth_token,
        "SPOOL_DIR": str(tmp_path / "spool"),
        "STREAM_HEARTBEAT": 0.5,
        "SWEEP_SECONDS": 0.5,
        "STREAM_LIMIT": limit_for(THREADS),
    }
    app = create_app(config, gateway=Gateway(client), database=database)
    server = WebhookServer(app, threads=THREADS)  # each open event stream holds a thread
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    for number in client.incoming_phone_numbers.list():
        client.incoming_phone_numbers(number.sid).update(
            voice_url=f"{server.local_url}/voice/incoming",
            status_callback=f"{server.local_url}/voice/status",
        )
    yield RunningTeamServer(server.local_url, app, database, sandbox.account_sid, client)
    server.stop()
    close_app(app)
