"""The History window's export in team mode: the server's whole CSV, streamed to the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from console.core.calls.history import CSV_COLUMNS
from console.core.calls.team_history import TEAM_MOST, TeamHistory
from console.core.gateways.team_gateway import TeamGateway
from console.tasks import TaskRunner
from console.ui.dialogs.history_dialog import HistoryDialog
from tests.helpers.widgets import by_name

CALLS = 25_000  # more than a search answers with (TEAM_MOST)
WAIT = 60_000


def _fill(url: str, account: str, count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    columns = 'account, sid, direction, from_, "to", room, identity, created_at, status, operator'
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY calls ({columns}) FROM STDIN") as copy:
            for n in range(count):
                copy.write_row((
                    account, f"CA{n:032x}", "outbound-api", "+15005550006", f"+1555{n:07d}",
                    f"Raum Nr. {n % 7}", f"Jürgen {n}", start + timedelta(seconds=n),
                    "completed", f"op{n % 3}",
                ))  # fmt: skip
        connection.commit()


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.wait(WAIT)


def export(qtbot, dialog: HistoryDialog) -> list[int]:
    """Click Export CSV and wait for it to end; the progress the window heard."""
    heard: list[int] = []
    dialog.export_progressed.connect(heard.append)
    status = by_name(dialog, "History status", QLabel)
    qtbot.mouseClick(by_name(dialog, "Export CSV", QPushButton), Qt.MouseButton.LeftButton)
    assert status.text() == "Exporting…"
    button = by_name(dialog, "Export CSV", QPushButton)
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    return heard


def open_dialog(qtbot, gateway: TeamGateway, runner: TaskRunner, target, shown="") -> HistoryDialog:
    dialog = HistoryDialog(TeamHistory(gateway), runner, choose_path=lambda: str(target))
    qtbot.addWidget(dialog)
    dialog.show()
    status = by_name(dialog, "History status", QLabel)
    ends = shown or "narrow the search to see older ones)"
    qtbot.waitUntil(lambda: status.text().endswith(ends))
    return dialog


@pytest.mark.slow
def test_a_team_export_writes_every_call_not_only_a_searchs_worth(
    qtbot, team_server, runner, tmp_path
):
    assert CALLS > TEAM_MOST
    _fill(team_server.database.url, team_server.account, CALLS)
    session = team_server.session("bob")
    gateway = TeamGateway(team_server.url, team_server.token("alice"))
    folder = tmp_path / "exports"  # the team server's spool is in tmp_path too
    folder.mkdir()
    target = folder / "team.csv"
    dialog = open_dialog(qtbot, gateway, runner, target)

    heard = export(qtbot, dialog)
    status = by_name(dialog, "History status", QLabel).text()
    assert status == f"Exported {CALLS} calls to {target}"
    assert heard == [*range(2000, CALLS, 2000), CALLS]  # the window heard it as it went
    server_csv = session.get(team_server.api("/history.csv"), timeout=60).content
    assert target.read_bytes() == server_csv  # the server's CSV, byte for byte
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == [*CSV_COLUMNS, "operator"] and len(lines) == CALLS + 1
    assert lines[1].startswith(f"CA{CALLS - 1:032x},") and lines[-1].startswith(f"CA{0:032x},")

    by_name(dialog, "Search history", QLineEdit).setText("RGEN 1234")  # the search's filters
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 11)  # 1234 and 12340…12349
    export(qtbot, dialog)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 and all("Jürgen 1234" in line for line in lines[1:])
    assert list(folder.iterdir()) == [target]  # nothing half-written left beside it
    gateway.close()
    session.close()


def test_a_failed_team_export_replaces_nothing_and_says_why(qtbot, team_server, runner, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "team.csv"
    target.write_text("last week's export\n", encoding="utf-8")
    gateway = TeamGateway(team_server.url, "sb_not-a-token", retry_delays=())
    dialog = HistoryDialog(TeamHistory(gateway), runner, choose_path=lambda: str(target))
    qtbot.addWidget(dialog)
    dialog.show()
    status = by_name(dialog, "History status", QLabel)
    qtbot.waitUntil(lambda: status.text() not in ("", "Searching…"))
    refused = status.text()  # the search was refused too, in the same words
    export(qtbot, dialog)
    assert status.text() == refused and "token" in refused.lower()
    assert target.read_text(encoding="utf-8") == "last week's export\n"
    assert list(folder.iterdir()) == [target]
    gateway.close()


def test_an_export_to_a_folder_that_is_not_there_is_a_clear_error(
    qtbot, team_server, runner, tmp_path
):
    target = tmp_path / "gone" / "team.csv"
    gateway = TeamGateway(team_server.url, team_server.token("alice"))
    dialog = open_dialog(qtbot, gateway, runner, target, shown="0 calls")
    export(qtbot, dialog)
    assert by_name(dialog, "History status", QLabel).text().startswith(f"Cannot write {target}")
    assert not target.parent.exists()
    gateway.close()
