"""The console window in team mode: it signs in, shows the stream's state, and goes stale."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel

from console.app import ConsoleSession, open_console
from console.core.secrets_store import TEAM_TOKEN
from server import operators
from server.app import close_app, create_app
from server.stream_slots import PER_OPERATOR, RETRY_SECONDS, limit_for
from tests.helpers.event_stream import EventStreamReader
from webhook import WebhookServer

FROM = "+15005550006"  # the sandbox account's number


@pytest.fixture
def own_server(team_server) -> Iterator[tuple[WebhookServer, object]]:
    """A second process's worth of team server on the same database, that a test may stop."""
    config = team_server.app.config
    app = create_app(
        {**config, "SPOOL_DIR": config["SPOOL_DIR"] + "-w", "STREAM_LIMIT": limit_for(8)},
        gateway=team_server.app.extensions["switchboard.team"].twilio.gateway,
        database=team_server.database,
    )
    server = WebhookServer(app, threads=8)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    yield server, app
    server.stop()
    close_app(app)


def _open(qtbot, preferences, secrets, env) -> ConsoleSession:
    preferences.refresh_interval = 1
    console = open_console(preferences, secrets, env)
    qtbot.addWidget(console.window)
    console.window.show()
    qtbot.waitExposed(console.window)
    return console


def _close(console: ConsoleSession) -> None:
    console.window.close()
    assert console.shutdown(), "background work did not finish at shutdown"


def _health(console: ConsoleSession) -> str:
    return console.window.status.health.text()


def test_settings_team_signs_in_with_no_webhook_and_the_status_bar_names_the_operator(
    qtbot, team_server, preferences, secrets
):
    preferences.team_server = team_server.url + "/"
    secrets.set(TEAM_TOKEN, team_server.token("ada"))
    console = _open(qtbot, preferences, secrets, {})
    try:
        runtime = console.runtime
        assert runtime is not None and runtime.mode == "team" and runtime.webhook is None
        assert runtime.history is None  # the team's history lives on the server
        status = console.window.status
        host = team_server.url.split("://", 1)[1]
        assert status.mode.text() == f"<b>Team · {host} · ada</b>"
        qtbot.waitUntil(lambda: "connected" in _health(console) and "#1e8449" in _health(console))
        assert not status.webhook.isVisible()  # no webhook of its own
        assert not console.window.actions.route.isVisible()  # the server owns the numbers
        # The window works through the server: a room made there shows in the Rooms list.
        team_server.client.video.v1.rooms.create(unique_name="Standup")
        model = console.controller.rooms_model
        qtbot.waitUntil(
            lambda: "Standup" in [r.unique_name for r in model.records()], timeout=10000
        )
    finally:
        _close(console)


def test_a_lost_server_greys_the_window_refuses_actions_and_comes_back(
    qtbot, team_server, own_server, preferences, secrets
):
    server, app = own_server
    port = server.port
    env = {"SWITCHBOARD_SERVER": server.local_url, "SWITCHBOARD_TOKEN": team_server.token("ada")}
    team_server.client.video.v1.rooms.create(unique_name="Standup")
    console = _open(qtbot, preferences, secrets, env)
    window = console.window
    try:
        model = console.controller.rooms_model
        qtbot.waitUntil(lambda: "connected" in _health(console), timeout=10000)
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10000)
        server.stop()  # the server this console streams from goes away
        qtbot.waitUntil(lambda: "reconnecting" in _health(console), timeout=10000)
        (banner,) = [
            label
            for label in window.findChildren(QLabel)
            if label.accessibleName() == "Stale notice"
        ]
        assert banner.isVisible() and "Stale since" in banner.text()
        assert "#b9770e" in _health(console)  # amber
        assert not window.rooms.isEnabled() and not window.dial_pad.isEnabled()
        assert model.rowCount() == 1  # the last state stays on show
        # An action is refused at once, in words, and nothing is sent later.
        room = model.records()[0]
        with qtbot.waitSignal(console.controller.error_reported, timeout=5000) as refused:
            console.controller.end_room(room)
        assert "Not sent" in refused.args[0] and "unreachable" in refused.args[0]
        back = WebhookServer(app, threads=8, port=port)
        back.start()
        qtbot.waitUntil(lambda: "connected" in _health(console), timeout=15000)
        assert not banner.isVisible() and window.rooms.isEnabled()
        rooms = team_server.client.video.v1.rooms.list(status="in-progress")
        assert [r.unique_name for r in rooms] == ["Standup"]  # the refused end never happened
        back.stop()
    finally:
        _close(console)


def test_a_refused_token_shows_red_and_says_what_to_fix(qtbot, team_server, preferences, secrets):
    token = team_server.token("ada")
    with team_server.database.connection() as connection:
        operators.revoke(connection, team_server.account, "ada")
    env = {"SWITCHBOARD_SERVER": team_server.url, "SWITCHBOARD_TOKEN": token}
    console = _open(qtbot, preferences, secrets, env)
    try:
        qtbot.waitUntil(lambda: "token refused" in _health(console), timeout=10000)
        assert "#c0392b" in _health(console)  # red
        assert console.runtime is not None and "Settings ▸ Team" in " ".join(console.runtime.notes)
        assert not console.window.rooms.isEnabled()
    finally:
        _close(console)


def test_a_stream_turned_away_says_why_and_connects_once_there_is_room(
    qtbot, team_server, preferences, secrets, tmp_path
):
    token = team_server.token("ada")
    held = [EventStreamReader(team_server.api("/events"), token) for _ in range(PER_OPERATOR)]
    assert [stream.status for stream in held] == [200] * PER_OPERATOR
    env = {"SWITCHBOARD_SERVER": team_server.url, "SWITCHBOARD_TOKEN": token}
    console = _open(qtbot, preferences, secrets, env)
    window = console.window
    told: list[str] = []  # each state the window was told, after it showed it
    console.bridge.team_state_changed.connect(lambda state, detail: told.append(state))
    try:
        qtbot.waitUntil(lambda: "turned away" in _health(console), timeout=10000)
        (banner,) = [
            label
            for label in window.findChildren(QLabel)
            if label.accessibleName() == "Stale notice"
        ]
        qtbot.waitUntil(
            lambda: "turned this console's event stream away (HTTP 429" in banner.text(),
            timeout=10000,
        )
        assert f"{PER_OPERATOR} event streams open" in banner.text()
        assert "unreachable" not in banner.text()  # the server is up: it said why
        log = "\n".join(window.event_log.lines())
        assert "Team server lost: the team server turned this console's event stream away" in log
        window.grab().save(str(tmp_path / "turned-away.png"))
        qtbot.waitUntil(  # tried again when told, and turned away again
            lambda: told.count("turned-away") >= 2, timeout=(RETRY_SECONDS + 10) * 1000
        )
        assert banner.isVisible() and not window.rooms.isEnabled()  # stale throughout
        assert "Team server back" not in "\n".join(window.event_log.lines())  # never, falsely
        held.pop().close()  # room again, within a heartbeat; the console waits as it was told
        qtbot.waitUntil(
            lambda: "connected" in _health(console), timeout=(RETRY_SECONDS + 10) * 1000
        )
        assert not banner.isVisible() and window.rooms.isEnabled()
    finally:
        _close(console)
        for stream in held:
            stream.close()
