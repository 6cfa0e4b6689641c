"""Two consoles as two operators on one team server: the waiting line's claims, and presence.

Each console is what the window runs on (controller, call routing, team desk, event bridge fed
by the team's event stream), with the real Waiting and Team panels, over the real server,
PostgreSQL and the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import Qt

from console.app import open_console
from console.call_routing import CallRouting, place_or_name_taker
from console.controller import ConsoleController
from console.core.gateways.team_gateway import TeamGateway
from console.core.gateways.team_login import TeamLogin
from console.core.gateways.team_records import ClaimedByOther
from console.core.number_text import display_number
from console.core.runtime import Runtime
from console.core.secrets_store import TEAM_TOKEN
from console.core.team_runtime import start_team
from console.event_bridge import EventBridge
from console.models.waiting_model import HANDLER_COLUMN
from console.tasks import TaskRunner
from console.team_desk import TeamDesk
from console.ui.team_panel import TeamPanel
from console.ui.waiting_panel import WaitingPanel
from server import event_log, operators

FROM = "+15005550006"  # the sandbox account's number
CALLER = "+15557654321"
LONDON = "+442079460000"
HOLD_ALL = '[[route]]\nnumber = "*"\nhold = true\n'
WAIT_MS = 10_000


@dataclass
class Console:
    """One operator's console, without the main window around it."""

    name: str
    controller: ConsoleController
    routing: CallRouting
    desk: TeamDesk
    bridge: EventBridge
    runtime: Runtime
    waiting: WaitingPanel
    team: TeamPanel
    failures: list[str] = field(default_factory=list)

    def handler_text(self, call_sid: str) -> str:
        model = self.routing.waiting_model
        return model.index(model.row_of(call_sid), HANDLER_COLUMN).data() or ""

    def stop(self) -> None:
        self.runtime.stop()
        self.controller.runner.wait(5000)


def _open(team_server, name: str, qtbot) -> Console:
    token = team_server.token(name)
    bridge, runner = EventBridge(), TaskRunner()
    controller = ConsoleController(runner)
    routing = CallRouting(controller)
    desk = TeamDesk(routing)
    bridge.caller_waiting.connect(routing.on_bridge_caller_waiting)
    bridge.call_status_received.connect(routing.on_bridge_call_status)
    bridge.team_event_received.connect(desk.on_bridge_team_event)
    bridge.team_state_changed.connect(desk.on_bridge_team_state_changed)
    runtime = start_team(
        TeamLogin(team_server.url, token), bridge.deliver, bridge.deliver_team, bridge.deliver_state
    )
    controller.attach(runtime)
    desk.attach(runtime)
    waiting, team = WaitingPanel(routing.waiting_model), TeamPanel(desk.presence_model)
    for widget in (waiting, team):
        qtbot.addWidget(widget)
    console = Console(name, controller, routing, desk, bridge, runtime, waiting, team)
    routing.waiting_failed.connect(console.failures.append)
    qtbot.waitUntil(lambda: desk.loaded and runtime.team_state[0] == "connected", timeout=WAIT_MS)
    return console


@pytest.fixture
def consoles(team_server, qtbot) -> Iterator[tuple[Console, Console]]:
    """ada's and grace's consoles, with every caller put on hold for the team."""
    team_server.session("admin").put(
        team_server.api("/routes"), json={"toml": HOLD_ALL, "version": 0}, timeout=10
    )
    opened = [_open(team_server, name, qtbot) for name in ("ada", "grace")]
    yield opened[0], opened[1]
    for console in opened:
        console.stop()


def _caller_waiting_in_both(sandbox, ada: Console, grace: Console, qtbot, number=CALLER) -> str:
    sid = sandbox.incoming_call(number, FROM).sid
    for console in (ada, grace):
        qtbot.waitUntil(
            lambda c=console: c.routing.waiting_model.caller(sid) is not None, timeout=WAIT_MS
        )
    return sid


def test_a_simultaneous_claim_has_one_winner_whose_room_the_caller_joins(
    consoles, sandbox, team_server, qtbot
):
    ada, grace = consoles
    sid = _caller_waiting_in_both(sandbox, ada, grace, qtbot)
    assert [ada.waiting.current_caller().call_sid, grace.waiting.current_caller().call_sid] == [
        sid,
        sid,
    ]
    rooms = {"ada": "Ops", "grace": "Sales"}
    ada.routing.put_in_room(sid, rooms["ada"], "caller")  # both click in the same moment
    grace.routing.put_in_room(sid, rooms["grace"], "caller")
    for console in (ada, grace):  # the row leaves every console
        qtbot.waitUntil(
            lambda c=console: c.routing.waiting_model.caller(sid) is None, timeout=WAIT_MS
        )
    qtbot.waitUntil(lambda: len(ada.failures) + len(grace.failures) == 1, timeout=WAIT_MS)
    winner, loser = (ada, grace) if grace.failures else (grace, ada)
    assert winner.failures == []
    assert loser.failures == [f"{winner.name} is already handling {display_number(CALLER)}"]

    gateway = TeamGateway(team_server.url, team_server.token("checker"))
    room = gateway.find_room(rooms[winner.name])
    assert room is not None and gateway.find_room(rooms[loser.name]) is None
    qtbot.waitUntil(lambda: bool(gateway.list_participants(room.sid)), timeout=WAIT_MS)
    people = gateway.list_participants(room.sid)
    assert [(p.call_sid, p.identity) for p in people] == [(sid, "caller")]  # once, not twice
    assert gateway.waiting() == []
    calls = winner.controller.calls_model  # the winner's console lists the call it took
    qtbot.waitUntil(lambda: calls.call(sid) is not None, timeout=WAIT_MS)
    listed = calls.call(sid)
    assert listed is not None and (listed.room, listed.direction) == (rooms[winner.name], "inbound")
    assert loser.controller.calls_model.call(sid) is None
    with team_server.database.connection() as connection:
        placed = [
            e
            for e in event_log.after(connection, team_server.account, 0)
            if e.kind == "waiting.placed"
        ]
    assert [(e.data["call_sid"], e.data["operator"]) for e in placed] == [(sid, winner.name)]
    for console in (
        ada,
        grace,
    ):  # the winner is on a call with the caller, as every Team panel says
        qtbot.waitUntil(
            lambda c=console: c.desk.presence_model.activity_of(winner.name).startswith(
                "on a call with +1"
            ),
            timeout=WAIT_MS,
        )
    assert ada.desk.presence_model.activity_of(loser.name) == "idle"
    # A click that reaches the server after the caller was placed is told who took them too.
    with pytest.raises(ClaimedByOther) as late:
        place_or_name_taker(loser.runtime.gateway, sid, "Sales", "", loser.name)
    assert late.value.holder == winner.name


def test_a_caller_another_operator_holds_is_greyed_and_refused_until_given_back(
    consoles, sandbox, team_server, qtbot
):
    ada, grace = consoles
    sid = _caller_waiting_in_both(sandbox, ada, grace, qtbot)
    ada.runtime.gateway.claim(sid)  # as `switchboard claim` would
    qtbot.waitUntil(lambda: grace.handler_text(sid) == "ada is handling this", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: ada.handler_text(sid) == "you", timeout=WAIT_MS)
    model = grace.routing.waiting_model
    grey = model.index(model.row_of(sid), 0).data(Qt.ItemDataRole.ForegroundRole)
    assert (
        grey is not None
        and ada.routing.waiting_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None
    )
    grace.waiting.set_room("Sales")
    assert not grace.waiting.put_button.isEnabled()
    assert grace.waiting.error.text() == "ada is handling this caller"

    grace.routing.put_in_room(sid, "Sales", "")  # as a drop onto a room would
    grace.routing.say_goodbye([sid])  # Hang up waiting caller
    assert grace.failures == [f"ada is already handling {display_number(CALLER)}"] * 2
    assert not model.is_pending(sid)  # nothing was sent
    gateway = TeamGateway(team_server.url, team_server.token("checker"))
    assert gateway.find_room("Sales") is None
    ((waiting,),) = [gateway.waiting()]
    assert (waiting.call_sid, waiting.claimed_by) == (sid, "ada")

    ada.stop()  # quitting gives ada's callers back to the team
    qtbot.waitUntil(lambda: grace.handler_text(sid) == "", timeout=WAIT_MS)
    assert [w.claimed_by for w in gateway.waiting()] == [""]
    assert grace.waiting.put_button.isEnabled() and grace.waiting.error.isHidden()


def test_a_console_started_later_shows_the_line_with_its_claims(
    consoles, sandbox, team_server, qtbot
):
    ada, grace = consoles
    sid = _caller_waiting_in_both(sandbox, ada, grace, qtbot)
    grace.runtime.gateway.claim(sid)
    later = _open(team_server, "lin", qtbot)
    try:
        assert later.routing.waiting_model.caller(sid) is not None
        assert later.handler_text(sid) == "grace is handling this"
    finally:
        later.stop()


def test_the_team_panel_lists_who_is_online_and_what_each_is_doing(consoles, team_server, qtbot):
    ada, grace = consoles
    for console in (ada, grace):
        qtbot.waitUntil(
            lambda c=console: c.desk.presence_model.names() == ["ada", "grace"], timeout=WAIT_MS
        )
    model = grace.desk.presence_model
    assert [model.index(row, 0).data() for row in range(2)] == ["ada", "grace (you)"]
    assert [model.index(row, 1).data() for row in range(2)] == ["idle", "idle"]
    assert grace.team.heading.text() == "<b>Team</b> · 2 operators online"
    assert not grace.team.empty_hint.isVisibleTo(grace.team)
    ada.runtime.gateway.dial(LONDON, FROM, "Desk", "ann")
    qtbot.waitUntil(
        lambda: model.activity_of("ada") == "on a call with +44 20 7946 0000", timeout=WAIT_MS
    )
    ada.stop()
    qtbot.waitUntil(lambda: model.names() == ["grace"], timeout=WAIT_MS)
    assert grace.team.empty_hint.isVisibleTo(grace.team)


def test_a_revoked_operator_leaves_the_team_panel_and_the_log_says_why(
    consoles, team_server, qtbot
):
    ada, _ = consoles
    qtbot.waitUntil(lambda: ada.desk.presence_model.names() == ["ada", "grace"], timeout=WAIT_MS)
    said: list[str] = []
    heard: list[str] = []
    ada.desk.said.connect(said.append)
    ada.bridge.team_event_received.connect(lambda event: heard.append(event.kind))
    with team_server.database.connection() as connection:
        operators.revoke(connection, team_server.account, "grace")
    qtbot.waitUntil(lambda: ada.desk.presence_model.names() == ["ada"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "operator.offline" in heard, timeout=WAIT_MS)  # her stream closed
    assert heard.index("operator.revoked") < heard.index("operator.offline")
    assert said.count("grace's operator token was revoked: they are signed out") == 1
    assert "grace went offline" not in said  # her stream closing is not told a second time


def test_the_window_in_team_mode_has_view_team_and_gives_claims_back_at_quit(
    qtbot, team_server, sandbox, preferences, secrets
):
    team_server.session("admin").put(
        team_server.api("/routes"), json={"toml": HOLD_ALL, "version": 0}, timeout=10
    )
    token = team_server.token("ada")
    gateway = TeamGateway(team_server.url, token)
    sid = sandbox.incoming_call(CALLER, FROM).sid
    qtbot.waitUntil(lambda: bool(gateway.waiting()), timeout=WAIT_MS)
    gateway.claim(sid)
    preferences.team_server = team_server.url
    secrets.set(TEAM_TOKEN, token)
    console = open_console(preferences, secrets, {})
    window = console.window
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.team_desk.loaded, timeout=WAIT_MS)
        assert window.routing.waiting_model.index(0, HANDLER_COLUMN).data() == "you"
        panel, toggle = window.team_panel, window.actions.team
        assert panel is not None and toggle in window.actions.view_menu.actions()
        assert panel.isVisible() and toggle.isChecked()
        toggle.trigger()
        assert not panel.isVisible()
        toggle.trigger()
        assert panel.isVisible()
        assert not window.quit_guard.at_stake()  # the team's callers stay with the team
    finally:
        window.close()
        assert console.shutdown()
    ((waiting,),) = [TeamGateway(team_server.url, team_server.token("grace")).waiting()]
    assert (waiting.call_sid, waiting.claimed_by) == (sid, "")  # given back at quit
