"""RoomsModel: a well-behaved Qt model that keeps rows in place on refresh."""

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from console.core.calls.records import Room
from console.models.record_table_model import RECORD_ROLE
from console.models.rooms_model import RoomsModel, format_age

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def room(sid: str, name: str, count: int = 0, minutes: int = 12) -> Room:
    created = NOW - timedelta(minutes=minutes)
    return Room(sid, name, "in-progress", "group", created, 50, count)


def test_model_passes_qtmodeltester(qtmodeltester):
    model = RoomsModel(clock=lambda: NOW)
    model.set_records([room("RM1", "DailyStandup", 3), room("RM2", "Support", 1, 2)])
    qtmodeltester.check(model)


def test_cells_show_name_type_count_and_age():
    model = RoomsModel(clock=lambda: NOW)
    model.set_records([room("RM1", "DailyStandup", 3)])
    cells = [model.index(0, c).data() for c in range(model.columnCount())]
    assert cells == ["DailyStandup", "group", "3", "12m"]
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Room"
    assert model.index(0, 0).data(RECORD_ROLE).sid == "RM1"


def test_same_rows_update_in_place_without_reset(qtbot):
    model = RoomsModel(clock=lambda: NOW)
    model.set_records([room("RM1", "DailyStandup", 1)])
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.set_records([room("RM1", "DailyStandup", 2)])
    assert resets == []
    assert model.index(0, 2).data() == "2"
    model.set_records([room("RM2", "Support")])
    assert resets == [1]
    assert model.row_of("RM2") == 0 and model.row_of("RM1") == -1


def test_a_refresh_redraws_only_changed_rooms_and_the_ages(qtbot):
    model = RoomsModel(clock=lambda: NOW)
    rooms = [room("RM1", "DailyStandup", 1), room("RM2", "Support", 2), room("RM3", "Sales", 3)]
    model.set_records(rooms)
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, _roles=(): changes.append((a.row(), a.column(), b.row(), b.column()))
    )
    model.set_records(list(rooms))  # nothing new: only the ages, which follow the clock
    assert changes == [(0, 3, 2, 3)]
    changes.clear()
    model.set_records([rooms[0], room("RM2", "Support", 5), rooms[2]])
    assert changes == [(1, 0, 1, 3), (0, 3, 2, 3)]  # the room whose count changed, whole
    assert model.index(1, 2).data() == "5"


def test_format_age():
    assert format_age(None, NOW) == ""
    assert format_age(NOW - timedelta(seconds=45), NOW) == "45s"
    assert format_age(NOW - timedelta(hours=3, minutes=5), NOW) == "3h05m"
    assert format_age(NOW + timedelta(seconds=5), NOW) == "0s"
