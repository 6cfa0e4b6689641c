"""The History dialog over a real SQLite history: search, filters, CSV export, dial again."""

from __future__ import annotations

import csv
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView

from console.core.calls.dial_list import entries_from_history
from console.core.calls.history import CSV_COLUMNS, CallHistory, HistoryEntry
from console.core.calls.records import Call
from console.models.history_model import HistoryModel
from console.tasks import TaskRunner
from console.ui.dialogs.history_dialog import HistoryDialog
from tests.helpers.widgets import by_name

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LINE = "+15005550006"
# sid, direction, to (or from, inbound), identity, final status, duration, error code, message
CALLS = [
    ("CA01", "outbound-api", "+15551230001", "alice", "completed", 72, "", ""),
    ("CA02", "outbound-api", "+15005550002", "carol", "busy", 0, "", ""),
    ("CA03", "outbound-api", "+15005550003", "dave", "no-answer", 0, "", ""),
    ("CA04", "outbound-api", "+15005550004", "erin", "failed", 0, "32009", "No such room"),
    ("CA05", "inbound", "+15551239999", "frank", "completed", 30, "", ""),
]


def seed(history: CallHistory) -> None:
    for minute, (sid, direction, other, identity, final, seconds, code, message) in enumerate(
        CALLS
    ):
        inbound = direction == "inbound"
        call = Call(
            sid,
            to=LINE if inbound else other,
            from_=other if inbound else LINE,
            status="ringing" if inbound else "queued",
            direction=direction,
            room="Support" if inbound else "DailyStandup",
            identity=identity,
        )
        placed = T0 + timedelta(minutes=minute)
        history.record_call(call, created_at=placed)
        history.record_status(sid, final, placed + timedelta(seconds=40), seconds, code, message)


@pytest.fixture
def history(tmp_path: Path):
    with CallHistory(tmp_path / "history.sqlite3") as opened:
        seed(opened)
        yield opened


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.wait(5000)


@pytest.fixture
def make_dialog(qtbot, history, runner):
    def make(choose_path=lambda: "", limit: int = 200, register: bool = True) -> HistoryDialog:
        dialog = HistoryDialog(history, runner, choose_path=choose_path, limit=limit)
        if register:
            qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return make


def table(dialog: HistoryDialog) -> QTableView:
    return by_name(dialog, "History", QTableView)


def shown(dialog: HistoryDialog) -> list[str]:
    model = table(dialog).model()
    return [model.index(row, 5).data() for row in range(model.rowCount())]  # identities


def status_line(dialog: HistoryDialog) -> str:
    return by_name(dialog, "History status", QLabel).text()


def loaded(qtbot, dialog: HistoryDialog, identities: list[str]) -> None:
    qtbot.waitUntil(lambda: shown(dialog) == identities and runner_idle(dialog))


def runner_idle(dialog: HistoryDialog) -> bool:
    return not status_line(dialog).endswith("…")


def choose(combo: QComboBox, label: str) -> None:
    combo.setCurrentIndex(combo.findText(label))


def click(qtbot, dialog, name: str) -> None:
    qtbot.mouseClick(by_name(dialog, name, QPushButton), Qt.MouseButton.LeftButton)


def test_model_passes_qtmodeltester_and_shows_each_column(qtmodeltester, history):
    model = HistoryModel()
    model.set_records(history.search())
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert headers == [
        "When",
        "Direction",
        "From",
        "To",
        "Room",
        "Identity",
        "Status",
        "Duration",
        "Error",
    ]
    erin = [model.index(1, c).data() for c in range(9)]
    when = T0 + timedelta(minutes=3)
    assert erin == [
        when.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        "outbound",
        "+1 500-555-0006 (US)",  # numbers formatted, with their country
        "+1 500-555-0004 (US)",
        "DailyStandup",
        "erin",
        "failed",
        "00:00",
        "the SIP address could not be reached (32009)",
    ]
    tip = model.index(1, 8).data(Qt.ItemDataRole.ToolTipRole)
    assert "32009: No such room" in tip and "https://www.twilio.com/docs/errors/32009" in tip
    frank = [model.index(0, c).data() for c in (1, 2, 3, 7)]
    assert frank == ["inbound", "+1 555-123-9999 (US)", "+1 500-555-0006 (US)", "00:30"]


def test_every_call_newest_first_with_the_count(qtbot, make_dialog):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    assert status_line(dialog) == "5 calls"
    assert by_name(dialog, "Dial these", QPushButton).isEnabled()
    # One desktop's history has one operator: no Operator column or filter (team mode has them)
    model = table(dialog).model()
    assert model.columnCount() == 9
    assert "Operator" not in [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert not [w for w in dialog.findChildren(QComboBox) if "Operator" in w.accessibleName()]


def test_search_filters_as_you_type_with_one_query_after_a_pause(
    qtbot, make_dialog, history, monkeypatch
):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    texts: list[str] = []
    search = history.search

    def counted(text: str = "", **filters):
        texts.append(text)
        return search(text, **filters)

    monkeypatch.setattr(history, "search", counted)
    qtbot.keyClicks(by_name(dialog, "Search history", QLineEdit), "carol")
    loaded(qtbot, dialog, ["carol"])
    assert texts == ["carol"]  # the debounce timer sent one query, not one a keystroke
    assert status_line(dialog) == "1 call"

    field = by_name(dialog, "Search history", QLineEdit)
    field.clear()
    qtbot.keyClicks(field, "5550000")  # a number that no call has
    loaded(qtbot, dialog, [])
    assert status_line(dialog) == "0 calls"
    assert not by_name(dialog, "Dial these", QPushButton).isEnabled()


def test_status_and_direction_filters(qtbot, make_dialog):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    status, direction = (
        by_name(dialog, "Status filter", QComboBox),
        by_name(dialog, "Direction filter", QComboBox),
    )
    for label in ("All", "completed", "busy", "no-answer", "failed", "canceled", "in-progress"):
        assert status.findText(label) >= 0, label
    assert [direction.itemText(i) for i in range(direction.count())] == [
        "All",
        "outbound",
        "inbound",
    ]
    choose(status, "busy or no-answer")
    loaded(qtbot, dialog, ["dave", "carol"])
    choose(status, "completed")
    loaded(qtbot, dialog, ["frank", "alice"])
    choose(direction, "inbound")
    loaded(qtbot, dialog, ["frank"])
    choose(status, "All")
    choose(direction, "outbound")
    loaded(qtbot, dialog, ["erin", "dave", "carol", "alice"])


def test_export_writes_every_matching_call_not_only_those_shown(qtbot, make_dialog, tmp_path):
    target = tmp_path / "out" / "calls.csv"
    target.parent.mkdir()
    dialog = make_dialog(choose_path=lambda: str(target), limit=2)
    loaded(qtbot, dialog, ["frank", "erin"])
    assert "newest 2" in status_line(dialog)
    choose(by_name(dialog, "Direction filter", QComboBox), "outbound")
    loaded(qtbot, dialog, ["erin", "dave"])

    click(qtbot, dialog, "Export CSV")
    qtbot.waitUntil(lambda: status_line(dialog).startswith("Exported"))
    assert status_line(dialog) == f"Exported 4 calls to {target}"
    with target.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["identity"] for r in records] == ["erin", "dave", "carol", "alice"]
    assert records[0]["error_code"] == "32009" and records[0]["error_message"] == "No such room"
    assert records[3]["duration"] == "72" and records[3]["to"] == "+15551230001"


def test_export_problems_are_shown_and_a_cancelled_choice_writes_nothing(
    qtbot, make_dialog, tmp_path, runner
):
    chosen = {"path": ""}
    dialog = make_dialog(choose_path=lambda: chosen["path"])
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    click(qtbot, dialog, "Export CSV")
    assert runner.pending == 0 and status_line(dialog) == "5 calls"

    chosen["path"] = str(tmp_path)  # a directory cannot be written as a file
    click(qtbot, dialog, "Export CSV")
    qtbot.waitUntil(lambda: status_line(dialog).startswith("Cannot write"))
    assert str(tmp_path) in status_line(dialog)
    assert "c0392b" in by_name(dialog, "History status", QLabel).styleSheet()
    assert by_name(dialog, "Export CSV", QPushButton).isEnabled()


def select_rows(dialog: HistoryDialog, rows: list[int]) -> None:
    view = table(dialog)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    view.clearSelection()
    for row in rows:
        view.selectionModel().select(view.model().index(row, 0), flags)


def test_dial_these_emits_the_selected_calls_or_every_call_shown(qtbot, make_dialog):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    view = table(dialog)
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.visualRect(view.model().index(1, 0)).center(),
    )
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        view.visualRect(view.model().index(3, 0)).center(),
    )
    with qtbot.waitSignal(dialog.dial_list_requested) as picked:
        click(qtbot, dialog, "Dial these")
    entries = picked.args[0]
    assert all(isinstance(e, HistoryEntry) for e in entries)
    assert [e.identity for e in entries] == ["erin", "carol"]

    view.clearSelection()
    choose(by_name(dialog, "Status filter", QComboBox), "busy or no-answer")
    loaded(qtbot, dialog, ["dave", "carol"])
    with qtbot.waitSignal(dialog.dial_list_requested) as picked:
        click(qtbot, dialog, "Dial these")
    assert [e.sid for e in picked.args[0]] == ["CA03", "CA02"]
    dial_list = entries_from_history(picked.args[0], "US")  # what the window does next
    assert [(e.to, e.identity) for e in dial_list.entries] == [
        ("+15005550003", "dave"),
        ("+15005550002", "carol"),
    ]


def test_queries_run_off_the_gui_thread_and_coalesce(qtbot, make_dialog, history, monkeypatch):
    release = threading.Event()
    threads: list[threading.Thread] = []
    search = history.search

    def slow(*args, **filters):
        threads.append(threading.current_thread())
        assert release.wait(5)
        return search(*args, **filters)

    monkeypatch.setattr(history, "search", slow)
    dialog = make_dialog()
    qtbot.waitUntil(lambda: len(threads) == 1)
    assert status_line(dialog) == "Searching…"
    field = by_name(dialog, "Search history", QLineEdit)
    qtbot.keyClicks(field, "al")  # the GUI answers while the query is blocked
    assert field.text() == "al"
    for _ in range(3):
        dialog.refresh()  # e.g. the window saw three status callbacks
    release.set()
    loaded(qtbot, dialog, ["alice"])
    assert len(threads) == 2  # the blocked query, then one more for everything since
    assert all(thread is not threading.main_thread() for thread in threads)


def test_an_unreadable_history_is_shown_in_words(qtbot, make_dialog, history):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    history.close()
    dialog.refresh()
    qtbot.waitUntil(lambda: "closed database" in status_line(dialog))
    assert status_line(dialog).startswith(f"Call history {history.path}")
    assert "c0392b" in by_name(dialog, "History status", QLabel).styleSheet()


def test_refresh_shows_new_calls_and_keeps_the_selection(qtbot, make_dialog, history):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    select_rows(dialog, [1, 3])
    history.record_call(
        Call("CA06", "+15551230006", LINE, "queued", "outbound-api", identity="gina"),
        created_at=T0 + timedelta(minutes=10),
    )
    dialog.refresh()
    loaded(qtbot, dialog, ["gina", "frank", "erin", "dave", "carol", "alice"])
    assert [e.identity for e in dialog.selected_entries()] == ["erin", "carol"]


def test_selecting_a_call_shows_every_status_with_its_time(qtbot, make_dialog, history):
    dialog = make_dialog()
    loaded(qtbot, dialog, ["frank", "erin", "dave", "carol", "alice"])
    table(dialog).selectRow(3)
    detail = by_name(dialog, "Call statuses", QLabel)
    queued = T0 + timedelta(minutes=1)
    busy = queued + timedelta(seconds=40)
    expected = f"CA02: queued {queued.astimezone():%H:%M:%S} → busy {busy.astimezone():%H:%M:%S}"
    qtbot.waitUntil(lambda: detail.text() == expected)
    choose(by_name(dialog, "Direction filter", QComboBox), "inbound")  # CA02 is filtered out
    loaded(qtbot, dialog, ["frank"])
    assert detail.text() == ""


def test_a_result_after_the_dialog_is_deleted_is_ignored(
    qtbot, make_dialog, history, runner, monkeypatch
):
    release = threading.Event()
    search = history.search
    monkeypatch.setattr(history, "search", lambda *a, **k: release.wait(5) and search(*a, **k))
    dialog = make_dialog(register=False)
    qtbot.waitUntil(lambda: runner.pending == 1)
    with qtbot.waitSignal(dialog.destroyed):
        dialog.deleteLater()
    assert not shiboken6.isValid(dialog)
    release.set()
    qtbot.waitUntil(lambda: runner.pending == 0)
