"""Room controls in the window, against the sandbox: mute, record, rooms that update themselves,
and callers who wait for their room to start. Effects are read back from the sandbox."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from console.models.recordings_model import RecordingsModel
from tests.gui.conftest import choose, right_click, sandbox_control, sandbox_get
from tests.gui.test_console_window import WAIT, dial_in
from tests.helpers.widgets import by_name


def people(session) -> dict[str, bool]:
    """Identity -> muted, for the selected room's participants."""
    return {p.identity: p.muted for p in session.controller.participants_model.records()}


def hearing(session, room: str) -> dict[str, list[str]]:
    found = sandbox_get(session, f"Rooms/{room}/Hearing")["participants"]
    return {p["identity"]: p["hears"] for p in found}


def row_of(session, identity: str) -> int:
    model = session.controller.participants_model
    return next(row for row, p in enumerate(model.records()) if p.identity == identity)


def join(qtbot, session, number: str, room: str, identity: str) -> None:
    dial_in(qtbot, session, number, room, identity)
    qtbot.waitUntil(lambda: identity in people(session), timeout=WAIT)


def test_mute_keeps_a_later_joiner_from_hearing_them(qtbot, session):
    join(qtbot, session, "+15551230001", "Standup", "alice")
    join(qtbot, session, "+15551230002", "Standup", "bob")
    view = session.window.rooms.participants_view
    row = row_of(session, "alice")
    menu = right_click(qtbot, view, row)
    assert "Mute participant" in [a.text().replace("&", "") for a in menu.actions()]
    choose(qtbot, menu, "Mute participant")
    qtbot.waitUntil(lambda: people(session) == {"alice": True, "bob": False}, timeout=WAIT)
    model = view.model()
    assert model.index(row, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # muted icon
    assert "is muted" in model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert hearing(session, "Standup") == {"alice": ["bob"], "bob": []}

    join(qtbot, session, "+15551230003", "Standup", "carol")  # joins after the mute
    qtbot.waitUntil(lambda: hearing(session, "Standup").get("carol") == ["bob"], timeout=WAIT)
    assert hearing(session, "Standup")["alice"] == ["bob", "carol"]  # alice still hears all

    view.selectRow(row_of(session, "alice"))
    mute = by_name(session.window, "Mute", QPushButton)
    assert mute.text().replace("&", "") == "Unmute"
    qtbot.mouseClick(mute, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not any(people(session).values()), timeout=WAIT)
    assert hearing(session, "Standup") == {
        "alice": ["bob", "carol"],
        "bob": ["alice", "carol"],
        "carol": ["alice", "bob"],
    }


def test_recording_shows_a_red_dot_and_lists_the_recordings(qtbot, session):
    join(qtbot, session, "+15551230004", "Rec", "dana")
    rooms = session.controller.rooms_model
    record = by_name(session.window, "Record", QPushButton)
    qtbot.waitUntil(record.isEnabled, timeout=WAIT)
    qtbot.mouseClick(record, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rooms.records()[0].recording, timeout=WAIT)
    assert rooms.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None  # the red dot
    assert record.text().replace("&", "") == "Stop recording"

    menu = right_click(qtbot, session.window.rooms.rooms_view, 0)
    choose(qtbot, menu, "Recordings…")
    dialog = session.window.findChild(QDialog, "recordings")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=WAIT)
    table: RecordingsModel = dialog.model

    def row() -> list[str]:
        return [table.index(0, c).data() for c in range(table.columnCount())]

    assert row()[1:] == ["audio", "…", "…", "recording"]
    assert row()[0].startswith("dana (MT")
    qtbot.mouseClick(record, Qt.MouseButton.LeftButton)  # Stop recording
    qtbot.waitUntil(lambda: row()[4] == "completed", timeout=WAIT)  # the callback reloads it
    assert row()[2].endswith("s") and row()[3].endswith("B")
    qtbot.waitUntil(lambda: not rooms.records()[0].recording, timeout=WAIT)
    assert "1 recording(s)" in dialog.summary.text()
    dialog.close()


def test_a_room_ended_by_its_empty_timeout_leaves_the_window_without_a_refresh(qtbot, session):
    session.window.refresh_timer.stop()  # no periodic refresh: only the callbacks tell
    join(qtbot, session, "+15551230005", "Brief", "erin")
    rooms = session.controller.rooms_model
    assert [r.unique_name for r in rooms.records()] == ["Brief"]
    (call,) = session.controller.calls_model.records()
    sandbox_control(session, "Faults", ErrorStatus=503, ErrorShare=1, PathPrefix="/v1/")
    sandbox_control(session, "Settings", ClockSpeed=600)  # five empty minutes in half a second
    sandbox_control(session, f"Calls/{call.sid}/Hangup")
    qtbot.waitUntil(lambda: rooms.rowCount() == 0, timeout=WAIT)
    assert session.controller.participants_model.rowCount() == 0
    assert "room-ended" in "\n".join(session.window.event_log.lines())


WAIT_FOR_STANDUP = """\
[[route]]
number = "*"
room = "Standup"
wait_for_room = true

[callers]
"+14155550100" = "alice"
"""


@pytest.fixture
def wait_routes(user_dirs):
    """Every incoming call waits for Standup to start (the routes file the console reads)."""
    from webhook.routes_file import default_routes_path

    path = default_routes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(WAIT_FOR_STANDUP)
    return path


def test_a_caller_waits_for_the_room_and_joins_when_the_console_creates_it(
    qtbot, wait_routes, session
):
    from tests.gui.conftest import ring_waiting_caller

    sandbox_control(session, "Settings", ClockSpeed=5)  # a round of the wait in about a second
    sid = ring_waiting_caller(qtbot, session, "+14155550100")
    waiting = session.window.routing.waiting_model
    text = waiting.index(waiting.row_of(sid), 1).data()
    assert text.endswith("waiting for Standup to start")
    session.controller.create_room("Standup")
    qtbot.waitUntil(lambda: waiting.caller(sid) is None, timeout=WAIT)  # joined by themselves
    # (their join can be heard before the answer to the room's creation comes back)
    qtbot.waitUntil(lambda: session.window.rooms.select_room_named("Standup"), timeout=WAIT)
    qtbot.waitUntil(lambda: "alice" in people(session), timeout=WAIT)
    assert "joined Standup as alice" in "\n".join(session.window.event_log.lines())
