"""Routes saved through one server process take effect on the next call in every other one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core.gateways.gateway import Gateway
from server.app import close_app, create_app
from server.database import Database
from tests.helpers import wait_until
from webhook import WebhookServer


@pytest.fixture
def second_process(team_server, database_url, sandbox, tmp_path) -> Iterator[str]:
    """Another server app on the same database (its own pool and routes), serving the numbers."""
    database = Database(database_url, min_size=1, max_size=4).open()
    config = {
        "ACCOUNT_SID": sandbox.account_sid,
        "AUTH_TOKEN": sandbox.auth_token,
        "SPOOL_DIR": str(tmp_path / "spool-2"),
        "SWEEP_SECONDS": 0.5,
    }
    app = create_app(config, gateway=Gateway(team_server.client), database=database)
    server = WebhookServer(app, threads=8)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    client = team_server.client
    for number in client.incoming_phone_numbers.list():
        client.incoming_phone_numbers(number.sid).update(
            voice_url=f"{server.local_url}/voice/incoming",
            status_callback=f"{server.local_url}/voice/status",
        )
    yield server.local_url
    server.stop()
    close_app(app)
    database.close()


def test_routes_saved_in_one_process_route_the_next_call_in_another(
    team_server, second_process, sandbox
):
    session = team_server.session("alice")

    def waiting() -> list[dict]:
        return session.get(team_server.api("/waiting"), timeout=10).json()["waiting"]

    # Everyone on hold: the other process reads these routes and puts a caller in the line.
    hold = '[[route]]\nnumber = "*"\nhold = true\n'
    saved = session.put(team_server.api("/routes"), json={"toml": hold, "version": 0}, timeout=10)
    assert saved.status_code == 200, saved.text
    first = sandbox.incoming_call("+15557650001", "+15005550006")
    assert [w["call_sid"] for w in wait_until(waiting, timeout=10, interval=0.05)] == [first.sid]

    good = '[[route]]\nnumber = "+15005550006"\nroom = "Standup"\n'
    saved = session.put(team_server.api("/routes"), json={"toml": good, "version": 1}, timeout=10)
    assert saved.status_code == 200, saved.text
    session.post(team_server.api("/rooms"), json={"name": "Standup"}, timeout=10)

    sandbox.incoming_call("+15557654321", "+15005550006")
    sid = session.get(team_server.api("/rooms"), timeout=10).json()["rooms"][0]["sid"]

    def joined() -> list[dict]:
        url = team_server.api(f"/rooms/{sid}/participants")
        return session.get(url, timeout=10).json()["participants"]

    people = wait_until(joined, timeout=10, interval=0.05)
    assert [p["identity"] for p in people] == ["phone-4321"]
    assert [w["call_sid"] for w in waiting()] == [first.sid]
