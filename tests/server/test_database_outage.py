"""PostgreSQL restarts while calls go on: TwiML is answered, callbacks are spooled, none lost.

Once one callback has found the database away, the rest are spooled without asking the pool
for a connection (and so without waiting for one), until the database is back.
"""

from __future__ import annotations

import json

import psycopg
import pytest
import requests

from server.app import PARTS_KEY
from tests.helpers import wait_until
from tests.helpers.signing import twilio_signature
from webhook.incoming import ROUTES_KEY

HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'


def _signed_post(team_server, sandbox, path: str, fields: dict[str, str]) -> requests.Response:
    url = f"{team_server.url}{path}"
    signature = twilio_signature(sandbox.auth_token, url, fields)
    return requests.post(url, data=fields, headers={"X-Twilio-Signature": signature}, timeout=20)


def _status(number: int) -> dict[str, str]:
    return {"CallSid": f"CA{number:032x}", "CallStatus": "completed", "SequenceNumber": "3"}


def _requests(team_server) -> int:
    """How many times anything in the process asked the pool for a connection."""
    return team_server.database.pool.get_stats().get("requests_num", 0)


@pytest.mark.slow
def test_a_database_restart_loses_no_acknowledged_callback(team_server, sandbox, postgres):
    session = team_server.session("alice")
    saved = session.put(team_server.api("/routes"), json={"toml": HOLD_ALL, "version": 0})
    assert saved.ok
    routes = team_server.app.extensions[ROUTES_KEY]
    # Every process reads new routes as soon as it hears of them.
    wait_until(lambda: routes.exists, timeout=10, interval=0.02)
    assert _signed_post(team_server, sandbox, "/voice/status", _status(0)).status_code == 204
    parts = team_server.app.extensions[PARTS_KEY]
    postgres.stop()
    try:
        # The first callback finds the database away (or housekeeping did, before it).
        assert _signed_post(team_server, sandbox, "/voice/status", _status(1)).status_code == 204
        assert not parts.gate.ready
        asked = _requests(team_server)
        # Outbound TwiML needs no database: room and identity are in the signed URL.
        outbound = _signed_post(
            team_server, sandbox, "/voice/outbound?room=Standup&identity=ann", {"CallSid": "CAo"}
        )
        assert outbound.status_code == 200 and "Standup" in outbound.text
        # Incoming calls follow the last routes read (hold), and the waiting caller is kept.
        incoming = _signed_post(
            team_server,
            sandbox,
            "/voice/incoming",
            {"CallSid": "CAheld", "From": "+15557654321", "To": "+15005550006"},
        )
        assert incoming.status_code == 200 and "hold" in incoming.text.lower()
        acknowledged = [f"CA{1:032x}"]
        for number in range(2, 22):
            answer = _signed_post(team_server, sandbox, "/voice/status", _status(number))
            assert answer.status_code == 204
            acknowledged.append(f"CA{number:032x}")
        # The team API says the database is away, in JSON, rather than hanging.
        away = session.get(team_server.api("/waiting"), timeout=30)
        assert away.status_code == 503 and away.json()["error"]["kind"] == "database"
        assert postgres.password not in away.text
        # None of them waited for a connection: all went straight to the spool, in order.
        assert _requests(team_server) == asked
        spooled = parts.recorder.spool.path.read_text().splitlines()
        assert [json.loads(line)["fields"]["CallSid"] for line in spooled[-20:]] == acknowledged[1:]
    finally:
        postgres.start()
    with psycopg.connect(team_server.database.url, autocommit=True) as connection:

        def statuses() -> list[str]:
            rows = connection.execute(
                "SELECT data->>'sid' FROM event_log WHERE kind = 'call.status' ORDER BY id"
            ).fetchall()
            return [row[0] for row in rows]

        wait_until(lambda: len(statuses()) >= 22, timeout=30, interval=0.2)
        written = statuses()
        waiting = connection.execute("SELECT call_sid FROM waiting").fetchall()
    assert written[1:] == acknowledged  # all of them, in the order they were acknowledged
    assert waiting == [("CAheld",)]
    # The server serves the team API again.
    assert session.get(team_server.api("/waiting"), timeout=10).status_code == 200


@pytest.mark.slow
def test_the_team_api_finding_the_database_away_closes_the_gate_for_everyone(
    team_server, sandbox, postgres
):
    session = team_server.session("alice")
    parts = team_server.app.extensions[PARTS_KEY]
    assert session.get(team_server.api("/waiting"), timeout=10).status_code == 200
    postgres.stop()
    try:
        # Only the team API asks: its first request waits for a connection, then says so.
        first = session.get(team_server.api("/waiting"), timeout=30)
        assert first.status_code == 503 and first.json()["error"]["kind"] == "database"
        assert not parts.gate.ready
        asked = _requests(team_server)
        # The next request, and Twilio's next callback, do not ask the pool again.
        again = session.get(team_server.api("/rooms"), timeout=30)
        assert again.status_code == 503 and again.json()["error"]["kind"] == "database"
        assert _signed_post(team_server, sandbox, "/voice/status", _status(7)).status_code == 204
        assert _requests(team_server) == asked
        assert (
            json.loads(parts.recorder.spool.path.read_text().splitlines()[-1])["fields"]["CallSid"]
            == f"CA{7:032x}"
        )
    finally:
        postgres.start()
    wait_until(lambda: parts.gate.ready, timeout=30, interval=0.1)
    assert session.get(team_server.api("/waiting"), timeout=10).status_code == 200
