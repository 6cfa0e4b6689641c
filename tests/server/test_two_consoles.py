"""Two operators' consoles on one team: real PostgreSQL, the sandbox, `switchboard server` with
two processes, and two real console windows signed in as different operators."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from PySide6.QtCore import QSettings
from twilio.rest import Client

from console.app import ConsoleSession, open_console
from console.core.calls.dial_input import DialRequest
from console.core.gateways.team_events import socket_of
from console.core.gateways.twilio_http import make_client
from console.core.preferences import Preferences
from server import operators
from server.database import Database
from tests.helpers.proc_net import children, holder_of
from tests.helpers.processes import RunningCommand

LINE = "+15005550006"  # the sandbox account's number: its callers are put on hold
HOLD = '[[route]]\nnumber = "*"\nhold = true\n'
pytestmark = pytest.mark.slow


@dataclass
class TeamStack:
    """`switchboard server --workers 2` over the sandbox and a real PostgreSQL."""

    url: str
    port: int
    command: RunningCommand
    database: Database
    account: str
    client: Client

    def token(self, name: str) -> str:
        with self.database.connection() as connection:
            return operators.add(connection, self.account, name)[1]

    def workers(self) -> list[int]:
        return children(self.command.process.pid)

    def newest_event_id(self) -> int:
        with self.database.connection() as connection:
            row = connection.execute(
                "SELECT max(id) FROM event_log WHERE account = %s", (self.account,)
            ).fetchone()
        return int(row[0] or 0)


@pytest.fixture
def team_stack(database, database_url, sandbox, sandbox_server, tmp_path) -> Iterator[TeamStack]:
    env = {
        "TWILIO_ACCOUNT_SID": sandbox.account_sid,
        "TWILIO_AUTH_TOKEN": sandbox.auth_token,
        "SWITCHBOARD_TWILIO_URL": sandbox_server.url,
        "SWITCHBOARD_DATABASE_URL": database_url,  # not in argv, where `ps` shows it
    }
    command = RunningCommand(
        "server", "--workers", "2", "--port", "0", "--spool", str(tmp_path / "spool"), env=env
    )
    try:
        url = command.wait_for_line(r"listening on (http://\S+)", timeout=60)[1]
        command.wait_for_line("Press Ctrl-C", timeout=60)
        client = make_client(sandbox.account_sid, sandbox.auth_token, base_url=sandbox_server.url)
        stack = TeamStack(url, int(url.rsplit(":", 1)[1]), command, database,
                          sandbox.account_sid, client)  # fmt: skip
        for number in client.incoming_phone_numbers.list():
            client.incoming_phone_numbers(number.sid).update(
                voice_url=f"{url}/voice/incoming", status_callback=f"{url}/voice/status"
            )
        admin = {"Authorization": f"Bearer {stack.token('admin')}"}
        answer = requests.put(
            f"{url}/team/v1/routes", json={"toml": HOLD, "version": 0}, headers=admin, timeout=10
        )
        assert answer.ok, answer.text
        yield stack
    finally:
        assert command.terminate(timeout=20) == 0


def _console(qtbot, tmp_path, stack: TeamStack, name: str) -> ConsoleSession:
    settings = QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat)
    preferences = Preferences(settings)
    preferences.refresh_interval = 1
    env = {"SWITCHBOARD_SERVER": stack.url, "SWITCHBOARD_TOKEN": stack.token(name)}
    console = open_console(preferences, None, env)
    qtbot.addWidget(console.window)
    console.window.show()
    qtbot.waitUntil(lambda: "connected" in console.window.status.health.text(), timeout=15000)
    return console


def _waiting(console: ConsoleSession) -> list[str]:
    return [caller.call_sid for caller in console.window.routing.waiting_model.records()]


def _stream_port(console: ConsoleSession) -> int:
    """The local port of the console's event-stream connection."""
    response = console.runtime.team_stream._response
    sock = socket_of(response) if response is not None else None
    assert sock is not None, "the console's stream is not open"
    return sock.getsockname()[1]


def test_two_operators_share_the_line_one_wins_a_claim_and_nothing_is_lost(
    qtbot, tmp_path, team_stack, sandbox
):
    ada = _console(qtbot, tmp_path, team_stack, "ada")
    grace = _console(qtbot, tmp_path, team_stack, "grace")
    arrived: dict[str, list[str]] = {"ada": [], "grace": []}
    for name, console in (("ada", ada), ("grace", grace)):
        console.bridge.caller_waiting.connect(
            lambda event, name=name: arrived[name].append(event.call_sid)
        )
    try:
        # A waiting caller shows in both consoles.
        caller = sandbox.incoming_call("+442071838750", LINE)
        qtbot.waitUntil(
            lambda: caller.sid in _waiting(ada) and caller.sid in _waiting(grace), timeout=10000
        )
        # Both operators take the caller at the same moment: exactly one wins.
        outcomes: dict[str, str] = {}
        for name, console in (("ada", ada), ("grace", grace)):
            routing = console.window.routing
            routing.done.connect(lambda text, name=name: outcomes.setdefault(name, "won"))
            routing.waiting_failed.connect(
                lambda text, name=name: outcomes.setdefault(name, f"lost: {text}")
            )
        ada.window.routing.put_in_room(caller.sid, "Sales", "")
        grace.window.routing.put_in_room(caller.sid, "Support", "")
        qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=15000)
        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        winner = winners[0]
        loser = "grace" if winner == "ada" else "ada"
        assert f"{winner} is already handling" in outcomes[loser]  # the loser is told, in words
        room = "Sales" if winner == "ada" else "Support"
        # The caller joins the room the winner chose, and leaves both Waiting lists.
        twilio_room = team_stack.client.video.v1.rooms(room).fetch()
        people = team_stack.client.video.v1.rooms(twilio_room.sid).participants.list(
            status="connected"
        )
        assert len(people) == 1
        qtbot.waitUntil(lambda: not _waiting(ada) and not _waiting(grace), timeout=10000)
        # History in both consoles shows the call with the winner's name.
        for console in (ada, grace):
            found = console.runtime.gateway.search_history(text=caller.sid)
            assert [(entry.sid, name) for entry, name in found] == [(caller.sid, winner)]
        # A mute made in one console shows in the other.
        for console in (ada, grace):
            qtbot.waitUntil(lambda c=console: c.window.rooms.select_room_named(room), timeout=10000)
        winning = ada if winner == "ada" else grace
        other = grace if winner == "ada" else ada
        # (a mute is what the others in the room stop hearing: the winner dials one more in)
        winning.controller.dial(DialRequest("+15551230002", LINE, room, "ben"))
        shown = winning.controller.participants_model
        qtbot.waitUntil(lambda: shown.rowCount() == 2, timeout=10000)
        (person,) = [p for p in shown.records() if p.identity != "ben"]
        winning.controller.room_desk.set_muted(person, True)

        def muted_in_other() -> dict[str, bool]:
            return {p.identity: p.muted for p in other.controller.participants_model.records()}

        qtbot.waitUntil(
            lambda: muted_in_other() == {person.identity: True, "ben": False}, timeout=10000
        )
        # Killing the server process Ada streams from loses no event for her console.
        workers = team_stack.workers()
        holder = holder_of(team_stack.port, _stream_port(ada), workers)
        assert holder is not None, "no worker holds Ada's stream"
        os.kill(holder, signal.SIGKILL)
        later = [sandbox.incoming_call(f"+4420718387{n:02d}", LINE).sid for n in range(3)]
        # (Grace's stream may have been on the same process: both consoles catch up.)
        for console in (ada, grace):
            qtbot.waitUntil(
                lambda c=console: all(sid in _waiting(c) for sid in later), timeout=20000
            )
        newest = team_stack.newest_event_id()
        for console in (ada, grace):
            qtbot.waitUntil(
                lambda c=console: c.runtime.team_stream.last_event_id >= newest, timeout=10000
            )
        assert ada.runtime.team_stream.connections >= 2  # it did reconnect
        for name in ("ada", "grace"):  # every caller arrived once, none twice, none missing
            assert sorted(arrived[name]) == sorted([caller.sid, *later]), name
    finally:
        for console in (ada, grace):
            console.window.close()
            assert console.shutdown()
