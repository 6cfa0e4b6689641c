"""Every failed or foreign ending has a reason in the Calls table, History and the CLI."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton, QTableView

from console.commands import cli
from console.models.calls_model import ERROR_COLUMN
from tests.gui.conftest import sandbox_control
from tests.gui.test_console_window import WAIT, dial_in, people, statuses
from tests.helpers.widgets import by_name


def reason(session, to: str) -> str:
    calls = session.controller.calls_model
    (call,) = [c for c in calls.records() if c.to == to]
    return calls.index(calls.row_of(call.sid), ERROR_COLUMN).data()


def history_reason(session, to: str) -> str:
    from console.models.history_model import error

    (entry,) = [e for e in session.runtime.history.search() if e.to == to]
    return error(entry)


def cli_history(capsys) -> str:
    """`switchboard history`, run as the command line runs it (same user data directory)."""
    capsys.readouterr()
    assert cli.main(["history"]) == 0
    return capsys.readouterr().out


def test_busy_no_answer_and_failed_calls_say_why(qtbot, session, capsys):
    sandbox_control(session, "Settings", ClockSpeed=600)  # a minute of ringing in 0.1 s
    calls = session.controller.calls_model
    for number, identity in [
        ("+15005550002", "bo"),
        ("+15005550003", "na"),
        ("+15005550004", "fa"),
    ]:
        dial_in(qtbot, session, number, "Support", identity)
        qtbot.waitUntil(lambda n=number: statuses(calls, n) != [], timeout=WAIT)
    qtbot.waitUntil(
        lambda: sorted(c.status for c in calls.records()) == ["busy", "failed", "no-answer"],
        timeout=WAIT,
    )
    expected = {
        "+15005550002": "busy",
        "+15005550003": "no answer after 60 s",
        "+15005550004": "failed (no reason given)",
    }
    assert {n: reason(session, n) for n in expected} == expected
    qtbot.waitUntil(
        lambda: all(history_reason(session, n) for n in expected), timeout=WAIT
    )  # the history's final statuses are written by the webhook's thread
    assert {n: history_reason(session, n) for n in expected} == expected
    printed = cli_history(capsys)
    for text in expected.values():
        assert text in printed


def test_a_duplicate_identity_is_53205_everywhere(qtbot, session, capsys):
    dial_in(qtbot, session, "+15551230001", "Standup", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    dial_in(qtbot, session, "+15551230002", "Standup", "alice")
    qtbot.waitUntil(
        lambda: session.window.findChild(QMessageBox, "identity-conflict") is not None,
        timeout=WAIT,
    )
    box = session.window.findChild(QMessageBox, "identity-conflict")
    (anyway,) = [b for b in box.buttons() if b.text() == "Dial anyway"]
    qtbot.mouseClick(anyway, Qt.MouseButton.LeftButton)
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15551230001") == ["completed"], timeout=WAIT)
    text = "disconnected: same identity joined again (53205)"
    qtbot.waitUntil(lambda: reason(session, "+15551230001") == text, timeout=WAIT)
    assert reason(session, "+15551230002") == ""  # the newcomer is fine
    qtbot.waitUntil(lambda: history_reason(session, "+15551230001") == text, timeout=WAIT)
    (entry,) = [e for e in session.runtime.history.search() if e.to == "+15551230001"]
    assert entry.error_code == "53205"
    assert text in cli_history(capsys)


def test_a_callee_who_hangs_up_is_named_and_the_operators_hang_up_is_not(qtbot, session):
    dial_in(qtbot, session, "+15551230003", "Desk", "carl")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15551230003") == ["in-progress"], timeout=WAIT)
    (theirs,) = calls.records()
    sandbox_control(session, f"Calls/{theirs.sid}/Hangup")  # the far end puts the phone down
    qtbot.waitUntil(lambda: reason(session, "+15551230003") == "callee hung up", timeout=WAIT)
    qtbot.waitUntil(lambda: history_reason(session, "+15551230003") == "callee hung up")

    dial_in(qtbot, session, "+15551230004", "Desk", "dora")
    qtbot.waitUntil(lambda: statuses(calls, "+15551230004") == ["in-progress"], timeout=WAIT)
    session.window.calls.select_call(calls.records()[-1].sid)
    qtbot.mouseClick(by_name(session.window, "Hang up", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: statuses(calls, "+15551230004") == ["completed"], timeout=WAIT)
    assert reason(session, "+15551230004") == ""  # the operator knows why
    bar = session.window.statusBar()
    qtbot.waitUntil(lambda: bar.currentMessage() == "Hung up +1 555-123-0004 (US)", timeout=WAIT)


def test_the_history_dialog_shows_the_same_reason(qtbot, session):
    dial_in(qtbot, session, "+15005550002", "Support", "gina")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550002") == ["busy"], timeout=WAIT)
    qtbot.waitUntil(lambda: history_reason(session, "+15005550002") == "busy", timeout=WAIT)
    qtbot.keyClick(session.window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "history")
    qtbot.waitUntil(dialog.isVisible)
    table = by_name(dialog, "History", QTableView)
    qtbot.waitUntil(lambda: table.model().rowCount() == 1, timeout=WAIT)
    headers = [table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert table.model().index(0, headers.index("Error")).data() == "busy"
