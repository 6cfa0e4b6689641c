"""The Routes dialog driven as an operator would: tables, the text fallback, Save."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
)

from console.models.rules_table_model import ERROR_ROLE
from console.tasks import TaskRunner
from console.ui.dialogs.routes_dialog import RoutesDialog
from tests.helpers.widgets import by_name
from webhook.routes import Route, RoutingRules, parse_routes

WAIT = 5000
GOOD = """\
# Switchboard routes, written by hand
[[route]]
number = "+15005550006"     # the main line
room = "DailyStandup"

[[route]]
number = "+15005550007"
ask_code = true

[[route]]
number = "*"
hold = true

[codes]
4242 = "DailyStandup"

[callers]
"+14155550100" = "alice"
"+14155550101" = "bob"
"""
BAD = GOOD.replace('room = "DailyStandup"', 'rom = "DailyStandup"')  # line 4


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.wait(5000)


@pytest.fixture
def open_dialog(qtbot, runner):
    def make(path: Path) -> RoutesDialog:
        dialog = RoutesDialog(path, runner)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        status = by_name(dialog, "Routes status", QLabel)
        qtbot.waitUntil(lambda: "Loading" not in status.text(), timeout=WAIT)
        return dialog

    return make


@pytest.fixture
def good_file(tmp_path) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def table_rows(view: QTableView) -> list[list[str]]:
    model = view.model()
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def start_editing(qtbot, view: QTableView, row: int, column: int):
    """Put the cursor on a cell and press F2, as the keyboard path is; returns the editor."""
    index = view.model().index(row, column)
    view.setCurrentIndex(index)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = view.indexWidget(index)
    assert editor is not None, f"no editor opened on row {row}, column {column}"
    return editor


def enter(qtbot, view: QTableView, row: int, column: int, text: str) -> None:
    """Type into the cell's open editor, press Enter, and wait for the editor to close."""
    index = view.model().index(row, column)
    editor = view.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.indexWidget(index) is None, timeout=WAIT)  # Qt commits queued


def type_cell(qtbot, view: QTableView, row: int, column: int, text: str) -> None:
    """Replace a cell's text by typing it, then Enter."""
    start_editing(qtbot, view, row, column)
    enter(qtbot, view, row, column, text)


def click(qtbot, dialog: RoutesDialog, name: str) -> None:
    button = by_name(dialog, name, QPushButton)
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def save(qtbot, dialog: RoutesDialog) -> None:
    with qtbot.waitSignal(dialog.routes_saved, timeout=WAIT):
        click(qtbot, dialog, "Save")
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)


def test_every_control_has_an_accessible_name(open_dialog, good_file):
    dialog = open_dialog(good_file)
    for name, kind in [
        ("Routes", QTableView),
        ("Meeting codes", QTableView),
        ("Known callers", QTableView),
        ("Add route", QPushButton),
        ("Remove route", QPushButton),
        ("Add code", QPushButton),
        ("Remove code", QPushButton),
        ("Add caller", QPushButton),
        ("Remove caller", QPushButton),
        ("Routes text", QPlainTextEdit),
        ("Edit in the form", QPushButton),
        ("Routes views", QTabWidget),
        ("Routes problem", QLabel),
        ("Routes file error", QLabel),
        ("Save", QPushButton),
        ("Cancel", QPushButton),
    ]:
        by_name(dialog, name, kind)


def test_a_good_file_fills_the_tables(qtmodeltester, open_dialog, good_file):
    dialog = open_dialog(good_file)
    assert table_rows(by_name(dialog, "Routes", QTableView)) == [
        ["+15005550006", "Room", "DailyStandup"],
        ["+15005550007", "Ask for a code", "—"],
        ["*", "Hold", "—"],
    ]
    assert table_rows(by_name(dialog, "Meeting codes", QTableView)) == [["4242", "DailyStandup"]]
    assert table_rows(by_name(dialog, "Known callers", QTableView))[1] == ["+14155550101", "bob"]
    assert by_name(dialog, "Save", QPushButton).isEnabled()
    assert not by_name(dialog, "Routes file error", QLabel).isVisible()
    qtmodeltester.check(dialog.routes_model)
    preview = by_name(dialog, "Routes text", QPlainTextEdit)
    assert preview.isReadOnly() and parse_routes(preview.toPlainText()) == dialog.rules()


def test_edit_and_save(qtbot, open_dialog, good_file):
    dialog = open_dialog(good_file)
    routes = by_name(dialog, "Routes", QTableView)
    type_cell(qtbot, routes, 0, 0, "+15005550008")
    action = start_editing(qtbot, routes, 1, 1)  # Ask for a code -> Hold
    assert isinstance(action, QComboBox) and action.accessibleName() == "Action"
    qtbot.keyClick(action, Qt.Key.Key_Down)
    assert routes.model().index(1, 1).data() == "Hold"
    click(qtbot, dialog, "Remove route")  # the cursor is on row 2: the route for +15005550007
    click(qtbot, dialog, "Add route")  # the new row's number is being edited
    enter(qtbot, routes, 2, 0, "sip:desk@example.com")
    assert not by_name(dialog, "Save", QPushButton).isEnabled()  # its room is missing
    type_cell(qtbot, routes, 2, 2, "Front Desk")
    codes = by_name(dialog, "Meeting codes", QTableView)
    click(qtbot, dialog, "Add code")
    enter(qtbot, codes, 1, 0, "0077")
    type_cell(qtbot, codes, 1, 1, "Support")
    callers = by_name(dialog, "Known callers", QTableView)
    callers.setCurrentIndex(callers.model().index(0, 0))
    click(qtbot, dialog, "Remove caller")
    save(qtbot, dialog)

    assert parse_routes(good_file.read_text(encoding="utf-8")) == RoutingRules(
        (
            Route("+15005550008", room="DailyStandup"),
            Route("*", hold=True),
            Route("sip:desk@example.com", room="Front Desk"),
        ),
        {"4242": "DailyStandup", "0077": "Support"},
        {"+14155550101": "bob"},
    )
    assert not list(good_file.parent.glob(".routes-*"))  # no temporary file left behind


def test_a_malformed_file_is_shown_with_line_and_key_and_left_alone(qtbot, open_dialog, tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(BAD, encoding="utf-8")
    before = path.stat()
    dialog = open_dialog(path)
    banner = by_name(dialog, "Routes file error", QLabel)
    assert banner.isVisible()
    assert f'{path}, line 4, key "rom": unknown route key' in banner.text()
    assert 'line 4, key "rom"' in by_name(dialog, "Routes problem", QLabel).text()
    tabs = by_name(dialog, "Routes views", QTabWidget)
    assert tabs.currentIndex() == dialog.text_tab
    assert not tabs.isTabEnabled(dialog.rules_tab)
    text = by_name(dialog, "Routes text", QPlainTextEdit)
    assert text.toPlainText() == BAD and not text.isReadOnly()
    assert not by_name(dialog, "Save", QPushButton).isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # the default button does nothing either
    qtbot.mouseClick(by_name(dialog, "Cancel", QPushButton), Qt.MouseButton.LeftButton)
    assert path.read_text(encoding="utf-8") == BAD
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_a_malformed_file_can_be_fixed_as_text_then_in_the_form(qtbot, open_dialog, tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(BAD, encoding="utf-8")
    dialog = open_dialog(path)
    text = by_name(dialog, "Routes text", QPlainTextEdit)
    cursor = text.document().find("rom =")
    text.setTextCursor(cursor)
    qtbot.keyClicks(text, "room =")
    problem = by_name(dialog, "Routes problem", QLabel)
    assert problem.text() == "" and by_name(dialog, "Save", QPushButton).isEnabled()
    assert path.read_text(encoding="utf-8") == BAD  # nothing written until Save

    click(qtbot, dialog, "Edit in the form")
    tabs = by_name(dialog, "Routes views", QTabWidget)
    assert tabs.currentIndex() == dialog.rules_tab and tabs.isTabEnabled(dialog.rules_tab)
    routes = by_name(dialog, "Routes", QTableView)
    assert table_rows(routes)[0] == ["+15005550006", "Room", "DailyStandup"]
    type_cell(qtbot, routes, 0, 2, "Support")
    save(qtbot, dialog)
    good = parse_routes(GOOD)
    expected = RoutingRules(
        (Route("+15005550006", room="Support"), *good.routes[1:]), good.codes, good.callers
    )
    assert parse_routes(path.read_text(encoding="utf-8")) == expected


def test_a_fixed_text_can_be_saved_as_it_stands(qtbot, open_dialog, tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(BAD, encoding="utf-8")
    dialog = open_dialog(path)
    by_name(dialog, "Routes text", QPlainTextEdit).setPlainText(GOOD)
    save(qtbot, dialog)
    assert parse_routes(path.read_text(encoding="utf-8")) == parse_routes(GOOD)


@pytest.mark.parametrize(
    ("row", "column", "typed", "problem"),
    [
        (0, 2, "R" * 129, "Routes, row 1, Room: The room name is longer than 128 characters."),
        (0, 0, "+1 555 abc", "Routes, row 1, Number: +1 555 abc is not an E.164 number"),
        (2, 0, "+15005550006", "Routes, row 3, Number: +15005550006 already has a route above."),
    ],
)
def test_a_bad_room_or_number_blocks_save(
    qtbot, open_dialog, good_file, row, column, typed, problem
):
    dialog = open_dialog(good_file)
    routes = by_name(dialog, "Routes", QTableView)
    type_cell(qtbot, routes, row, column, typed)
    assert by_name(dialog, "Routes problem", QLabel).text().startswith(problem)
    index = routes.model().index(row, column)
    assert index.data(ERROR_ROLE) and index.data(Qt.ItemDataRole.ToolTipRole)
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert not by_name(dialog, "Save", QPushButton).isEnabled()
    assert not by_name(dialog, "Routes text", QPlainTextEdit).isEnabled()  # stale preview
    type_cell(qtbot, routes, row, column, "+15005550009" if column == 0 else "Support")
    assert by_name(dialog, "Routes problem", QLabel).text() == ""
    assert index.data(ERROR_ROLE) == ""
    assert by_name(dialog, "Save", QPushButton).isEnabled()
    assert good_file.read_text(encoding="utf-8") == GOOD


def test_a_missing_file_is_created_on_save(qtbot, open_dialog, tmp_path):
    path = tmp_path / "config" / "switchboard" / "routes.toml"
    dialog = open_dialog(path)
    assert "does not exist yet" in by_name(dialog, "Routes status", QLabel).text()
    assert table_rows(by_name(dialog, "Routes", QTableView)) == []
    click(qtbot, dialog, "Add route")
    routes = by_name(dialog, "Routes", QTableView)
    enter(qtbot, routes, 0, 0, "*")
    qtbot.keyClick(start_editing(qtbot, routes, 0, 1), Qt.Key.Key_End)  # the last choice
    assert table_rows(routes) == [["*", "Hold", "—"]]
    save(qtbot, dialog)
    assert parse_routes(path.read_text(encoding="utf-8")) == RoutingRules((Route("*", hold=True),))


def question(qtbot, dialog: RoutesDialog, name: str) -> QMessageBox:
    def shown() -> QMessageBox | None:
        boxes = [b for b in dialog.findChildren(QMessageBox) if b.objectName() == name]
        return next((b for b in boxes if b.isVisible()), None)

    qtbot.waitUntil(lambda: shown() is not None, timeout=WAIT)
    return shown()


def answer(qtbot, box: QMessageBox, label: str) -> None:
    (button,) = [b for b in box.buttons() if b.accessibleName() == label]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_file_changed_on_disk_is_overwritten_only_when_asked(qtbot, open_dialog, good_file):
    dialog = open_dialog(good_file)
    elsewhere = GOOD + '"+14155550102" = "carol"\n'
    good_file.write_text(elsewhere, encoding="utf-8")  # someone else's edit meanwhile
    click(qtbot, dialog, "Save")
    answer(qtbot, question(qtbot, dialog, "routes-changed"), "Cancel")
    qtbot.waitUntil(lambda: by_name(dialog, "Save", QPushButton).isEnabled(), timeout=WAIT)
    assert good_file.read_text(encoding="utf-8") == elsewhere and dialog.isVisible()

    click(qtbot, dialog, "Save")
    with qtbot.waitSignal(dialog.routes_saved, timeout=WAIT):
        answer(qtbot, question(qtbot, dialog, "routes-changed"), "Overwrite")
    assert parse_routes(good_file.read_text(encoding="utf-8")) == parse_routes(GOOD)


def test_an_unreadable_file_can_only_be_cancelled(open_dialog, tmp_path):
    path = tmp_path / "routes.toml"
    path.mkdir()  # a folder where the file should be
    dialog = open_dialog(path)
    assert "cannot be read" in by_name(dialog, "Routes file error", QLabel).text()
    assert not by_name(dialog, "Save", QPushButton).isEnabled()
    tabs = by_name(dialog, "Routes views", QTabWidget)
    assert not tabs.isTabEnabled(dialog.rules_tab) and not tabs.isTabEnabled(dialog.text_tab)
