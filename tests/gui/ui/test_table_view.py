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
