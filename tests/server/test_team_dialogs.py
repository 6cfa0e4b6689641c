"""History and Routes in team mode, driven as an operator would, over the real team server."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QPushButton, QTableView

from console.app import open_console
from console.core.calls.history import CSV_COLUMNS
from console.core.calls.team_history import TeamHistory, TeamHistoryEntry, write_team_csv
from console.core.gateways.team_gateway import TeamGateway
from console.core.secrets_store import TEAM_TOKEN
from console.tasks import TaskRunner
from console.ui.dialogs import routes_dialog
from console.ui.dialogs.history_dialog import HistoryDialog
from console.ui.dialogs.team_routes_dialog import TeamRoutesDialog
from tests.gui.ui.dialogs.test_routes_dialog import GOOD, table_rows, type_cell
from tests.helpers.widgets import by_name
from webhook.routes import RoutesError, parse_routes, render_routes

FROM = "+15005550006"  # the sandbox account's number
WAIT = 10_000


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.wait(10_000)


@pytest.fixture
def gateways(team_server):
    """Two operators, alice and bob, each with their own console's gateway."""
    opened = {
        name: TeamGateway(team_server.url, team_server.token(name)) for name in ("alice", "bob")
    }
    yield opened
    for gateway in opened.values():
        gateway.close()


def column(view: QTableView, title: str) -> list[str]:
    model = view.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    at = headers.index(title)
    return [model.index(row, at).data() for row in range(model.rowCount())]


def history_status(dialog: HistoryDialog) -> str:
    return by_name(dialog, "History status", QLabel).text()


def test_team_history_shows_and_filters_by_operator_and_exports_it(
    qtbot, gateways, runner, tmp_path
):
    alice, bob = gateways["alice"], gateways["bob"]
    alice.dial("+15551230001", FROM, "Ops", "ann")
    bob.dial("+15551230002", FROM, "Ops", "ben")
    target = tmp_path / "team.csv"
    dialog = HistoryDialog(TeamHistory(alice), runner, choose_path=lambda: str(target))
    qtbot.addWidget(dialog)
    dialog.show()
    table = by_name(dialog, "History", QTableView)
    qtbot.waitUntil(lambda: table.model().rowCount() == 2 and history_status(dialog) == "2 calls")
    who = dict(zip(column(table, "Identity"), column(table, "Operator"), strict=True))
    assert who == {"ann": "alice", "ben": "bob"}

    operators = by_name(dialog, "Operator filter", QComboBox)
    assert [operators.itemText(i) for i in range(operators.count())] == ["All", "alice", "bob"]
    operators.setCurrentIndex(operators.findText("bob"))  # as choosing it with the keyboard
    qtbot.waitUntil(lambda: column(table, "Identity") == ["ben"])
    assert history_status(dialog) == "1 call"

    table.selectRow(0)  # the statuses come from the server, off the GUI thread
    detail = by_name(dialog, "Call statuses", QLabel)
    sid = dialog.selected_entries()[0].sid
    qtbot.waitUntil(lambda: detail.text().startswith(f"{sid}: queued "), timeout=WAIT)

    qtbot.mouseClick(by_name(dialog, "Export CSV", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: history_status(dialog).startswith("Exported"), timeout=WAIT)
    with target.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == [*CSV_COLUMNS, "operator"]
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["identity"], r["operator"], r["to"]) for r in records] == [
        ("ben", "bob", "+15551230002")
    ]


def test_the_team_csv_guards_operator_names_as_every_cell():
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    entry = TeamHistoryEntry(
        "CA1",
        "outbound-api",
        FROM,
        "+15551230001",
        "Ops",
        "ann",
        "",
        when,
        "completed",
        "completed",
        7,
        "",
        "",
        operator="=HYPERLINK(1)",
    )
    out = io.StringIO(newline="")
    assert write_team_csv([entry], out) == 1
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][-1] == "'=HYPERLINK(1)" and rows[1][2] == FROM  # numbers stay as they are


def open_routes(qtbot, gateway: TeamGateway, runner: TaskRunner) -> TeamRoutesDialog:
    dialog = TeamRoutesDialog(gateway, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    status = by_name(dialog, "Routes status", QLabel)
    qtbot.waitUntil(lambda: "Loading" not in status.text(), timeout=WAIT)
    return dialog


def save(qtbot, dialog: TeamRoutesDialog) -> None:
    qtbot.mouseClick(by_name(dialog, "Save", QPushButton), Qt.MouseButton.LeftButton)


def test_routes_load_from_the_team_and_save_with_their_version(qtbot, gateways, runner):
    alice = gateways["alice"]
    empty = open_routes(qtbot, alice, runner)
    assert "no routes yet" in by_name(empty, "Routes status", QLabel).text()
    empty.close()
    assert alice.replace_routes(GOOD, 0).version == 1

    dialog = open_routes(qtbot, alice, runner)
    assert "version 1" in by_name(dialog, "Routes file", QLabel).text()
    routes = by_name(dialog, "Routes", QTableView)
    assert table_rows(routes)[0] == ["+15005550006", "Room", "DailyStandup"]
    type_cell(qtbot, routes, 0, 2, "Support")
    with qtbot.waitSignal(dialog.routes_saved, timeout=WAIT) as saved:
        save(qtbot, dialog)
    assert "(version 2)" in saved.args[0]
    stored = alice.routes()
    assert stored.version == 2 and parse_routes(stored.toml).routes[0].room == "Support"


def test_a_save_after_another_operators_is_told_and_shown_their_version(qtbot, gateways, runner):
    alice, bob = gateways["alice"], gateways["bob"]
    alice.replace_routes(GOOD, 0)
    hers, his = open_routes(qtbot, alice, runner), open_routes(qtbot, bob, runner)
    type_cell(qtbot, by_name(hers, "Routes", QTableView), 0, 2, "AliceRoom")
    with qtbot.waitSignal(hers.routes_saved, timeout=WAIT):
        save(qtbot, hers)

    his_routes = by_name(his, "Routes", QTableView)
    type_cell(qtbot, his_routes, 0, 2, "BobRoom")
    save(qtbot, his)
    banner = by_name(his, "Routes file error", QLabel)
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    assert "Another operator saved the team's routes" in banner.text()
    assert "version 2" in banner.text() and "not saved" in banner.text()
    assert table_rows(his_routes)[0] == ["+15005550006", "Room", "AliceRoom"]  # hers, shown
    assert "version 2" in by_name(his, "Routes file", QLabel).text()
    assert parse_routes(bob.routes().toml).routes[0].room == "AliceRoom"  # nothing overwritten

    restore = by_name(his, "Restore my changes", QPushButton)
    assert restore.isVisible()
    qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)  # his edit is back, over version 2
    assert table_rows(his_routes)[0] == ["+15005550006", "Room", "BobRoom"]
    assert not restore.isVisible() and not banner.isVisible()
    with qtbot.waitSignal(his.routes_saved, timeout=WAIT) as saved:
        save(qtbot, his)
    assert "(version 3)" in saved.args[0]
    assert parse_routes(alice.routes().toml).routes[0].room == "BobRoom"


def test_routes_the_server_refuses_are_shown_with_their_line(qtbot, gateways, runner, monkeypatch):
    # This console's own checks let a too-long room name through, as an older console's
    # might: the server's validation is the one that refuses it.
    monkeypatch.setattr(routes_dialog, "check_route_rows", lambda rows: {})
    monkeypatch.setattr(routes_dialog, "check_rules", lambda rules: "")
    alice = gateways["alice"]
    alice.replace_routes(GOOD, 0)
    dialog = open_routes(qtbot, alice, runner)
    type_cell(qtbot, by_name(dialog, "Routes", QTableView), 0, 2, "R" * 129)
    save(qtbot, dialog)
    banner = by_name(dialog, "Routes file error", QLabel)
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    with pytest.raises(RoutesError) as expected:
        parse_routes(render_routes(dialog.rules()))
    line = expected.value.line
    assert f'The team server refused these routes: line {line}, key "room"' in banner.text()
    assert "128 characters" in banner.text()
    assert dialog.isVisible() and alice.routes().version == 1


def test_the_team_window_opens_the_teams_history_and_routes(
    qtbot, team_server, gateways, preferences, secrets
):
    gateways["bob"].dial("+15551230002", FROM, "Ops", "ben")
    preferences.team_server = team_server.url
    secrets.set(TEAM_TOKEN, team_server.token("ada"))
    console = open_console(preferences, secrets, {})
    window = console.window
    qtbot.addWidget(window)
    try:
        window.actions.history.trigger()
        history = window.findChild(QDialog, "history")
        assert isinstance(history, HistoryDialog)
        table = by_name(history, "History", QTableView)
        qtbot.waitUntil(lambda: column(table, "Operator") == ["bob"], timeout=WAIT)
        window.actions.routes.trigger()
        routes = window.findChild(QDialog, "routes")
        assert isinstance(routes, TeamRoutesDialog)
        status = by_name(routes, "Routes status", QLabel)
        qtbot.waitUntil(lambda: "no routes yet" in status.text(), timeout=WAIT)
        # Bob saves the routes while Ada's editor is open: she is told at once, not at Save.
        banner = by_name(routes, "Routes file error", QLabel)
        assert banner.isHidden()
        gateways["bob"].replace_routes(GOOD, 0)
        qtbot.waitUntil(lambda: banner.isVisible(), timeout=WAIT)
        assert "bob saved the team's routes (version 1)" in banner.text()
        assert "open on version 0" in banner.text()
    finally:
        window.close()
        assert console.shutdown(), "background work did not finish at shutdown"


def test_the_routes_editor_is_not_told_of_its_own_operators_save(qtbot, gateways, runner):
    from console.core.gateways.team_events import TeamEvent

    dialog = TeamRoutesDialog(gateways["alice"], runner, operator="alice")
    qtbot.addWidget(dialog)
    dialog.show()
    banner = by_name(dialog, "Routes file error", QLabel)
    # While the editor still loads, a save is no news: the load brings the newest version.
    dialog.on_team_event(TeamEvent(6, "routes.changed", {"version": 1, "operator": "bob"}))
    assert banner.isHidden()
    status = by_name(dialog, "Routes status", QLabel)
    qtbot.waitUntil(lambda: "no routes yet" in status.text(), timeout=WAIT)
    dialog.on_team_event(TeamEvent(7, "routes.changed", {"version": 1, "operator": "alice"}))
    dialog.on_team_event(TeamEvent(8, "call.status", {"version": 9, "operator": "bob"}))
    assert banner.isHidden()
    dialog.on_team_event(TeamEvent(9, "routes.changed", {"version": 2, "operator": "bob"}))
    assert banner.isVisible() and "bob saved the team's routes (version 2)" in banner.text()
