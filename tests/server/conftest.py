"""The team server's test fixtures: a team server app on the sandbox, over a real PostgreSQL.

The PostgreSQL fixtures (postgres, empty_database, database_url, database) live in
tests/helpers/postgres_fixtures.py, for every test directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from flask import Flask
from twilio.rest import Client

from console.core.gateways.gateway import Gateway
from console.core.gateways.team_gateway import TeamGateway
from console.core.gateways.twilio_http import make_client
from server import operators
from server.app import close_app, create_app
from server.database import Database
from server.stream_slots import limit_for
from tests.e2e import conftest as e2e
from tests.helpers import wait_until
from tests.helpers.postgres_fixtures import ACCOUNT  # noqa: F401 (imported from here too)
from tests.helpers.postgres_fixtures import unavailable as _unavailable  # noqa: F401
from webhook import WebhookServer

THREADS = 16  # the team server's threads in these tests: 8 for event streams, 8 kept free
sandbox = e2e.sandbox  # fixtures: the offline Twilio the server talks to
sandbox_server = e2e.sandbox_server


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


@pytest.fixture
def ops_room(team_server):
    """Room Ops with ann and ben dialed in through the team API; (room, alice's team gateway,
    bob's)."""
    alice = TeamGateway(team_server.url, team_server.token("alice"))
    bob = TeamGateway(team_server.url, team_server.token("bob"))
    room = alice.create_room("Ops")
    for number, identity in (("+15551230001", "ann"), ("+15551230002", "ben")):
        alice.dial(number, "+15005550006", "Ops", identity)  # from the sandbox's number
    wait_until(lambda: len(alice.list_participants(room.sid)) == 2, timeout=10)
    yield room, alice, bob
    alice.close()
    bob.close()
