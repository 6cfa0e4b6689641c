"""RecordTableView: starting column widths, and refreshes that never measure every cell."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QHeaderView

from console.models.record_table_model import Column, RecordTableModel
from console.ui.table_view import RecordTableView


@dataclass(frozen=True)
class Row:
    key: str
    name: str


class CountingModel(RecordTableModel[Row]):
    """Counts how often the view asks for a cell."""

    def __init__(self) -> None:
        columns = [
            Column[Row]("Key", lambda r: r.key, chars=6),
            Column[Row]("Name", lambda r: r.name, chars=30),
            Column[Row]("Last", lambda r: r.name),
        ]
        super().__init__(columns, key=lambda r: r.key)
        self.asked = 0

    def data(self, index, role=0):
        self.asked += 1
        return super().data(index, role)


def rows(count: int, tag: str) -> list[Row]:
    return [Row(f"k{n}", f"{tag} {n}") for n in range(count)]


def test_starting_widths_follow_the_usual_text_and_the_operator_can_resize(qtbot):
    model = CountingModel()
    view = RecordTableView(model, "Counting")
    qtbot.addWidget(view)
    header = view.horizontalHeader()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Interactive
    assert view.columnWidth(1) > 3 * view.columnWidth(0)  # 30 characters against 6
    assert model.column_chars(0) == 6 and model.column_chars(2) == 12  # the default


def test_a_refresh_asks_only_for_cells_on_screen(qtbot):
    model = CountingModel()
    view = RecordTableView(model, "Counting")
    qtbot.addWidget(view)
    view.resize(400, 200)  # room for about six rows
    view.show()
    qtbot.waitExposed(view)
    total_cells = 1000 * model.columnCount()
    for tag in ("first", "second", "third"):  # a reset, then two in-place updates
        model.asked = 0
        model.set_records(rows(1000, tag))
        qtbot.waitUntil(lambda t=tag: view.isVisible() and model.asked > 0)
        view.repaint()
        assert 0 < model.asked < total_cells / 10, (tag, model.asked)
    assert model.index(999, 1).data() == "third 999"


def selected(view: RecordTableView, model: CountingModel) -> Row | None:
    """The record of the row Qt's selection model holds."""
    found = view.selectionModel().selectedRows()
    return model.record_at(found[0].row()) if found else None


def test_the_selected_record_follows_updates_resets_and_removals(qtbot):
    model = CountingModel()
    model.set_records(rows(5, "old"))
    view = RecordTableView(model, "Test")
    qtbot.addWidget(view)
    assert view.current_record() is None
    view.selectRow(2)
    assert view.current_record() == Row("k2", "old 2")
    model.put(Row("k2", "renamed"))  # changed in place: the newest record, no new selection
    assert view.current_record() == Row("k2", "renamed")
    model.set_records([Row("new", "first"), *rows(5, "again")])  # a reset keeps it by key
    assert view.current_record() == Row("k2", "again 2")
    assert view.selectionModel().selectedRows()[0].row() == 3
    model.remove_at(3)  # the selected row itself goes: Qt selects the one taking its place
    assert view.current_record() == Row("k3", "again 3") == selected(view, model)
    model.put(Row("k2", "back"))  # the same key again is not selected again
    assert view.current_record() == Row("k3", "again 3")
    view.selectRow(0)
    model.set_records(rows(2, "other"))  # its key is gone after a reset: nothing selected
    assert view.current_record() is None
