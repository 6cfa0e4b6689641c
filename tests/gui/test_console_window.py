"""The operator's window driven like an operator would, against the sandbox and real webhook."""

from __future__ import annotations

import time

import requests
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
)

from console.models.calls_model import ERROR_COLUMN, CallsModel
from tests.gui.conftest import sandbox_control
from tests.helpers.signing import twilio_signature
from tests.helpers.widgets import by_name

WAIT = 10_000


def fill(qtbot, window, number: str, room: str, identity: str) -> None:
    """Type a dial request into the pad the way an operator does."""
    qtbot.waitUntil(lambda: by_name(window, "From", QComboBox).count() > 0, timeout=WAIT)
    field = by_name(window, "Number", QLineEdit)
    qtbot.waitUntil(field.isEnabled, timeout=WAIT)  # live mode: after the first webhook check
    field.clear()
    qtbot.keyClicks(field, number)
    room_box = by_name(window, "Room", QComboBox)
    room_box.lineEdit().clear()
    qtbot.keyClicks(room_box.lineEdit(), room)
    who = by_name(window, "Identity", QLineEdit)
    who.clear()
    qtbot.keyClicks(who, identity)


def statuses(model: CallsModel, to: str) -> list[str]:
    return [c.status for c in model.records() if c.to == to]


def people(session) -> list[tuple[str, str]]:
    model = session.controller.participants_model
    return [(p.identity, p.status) for p in model.records()]


def dial_in(qtbot, session, number: str, room: str, identity: str) -> None:
    window = session.window
    fill(qtbot, window, number, room, identity)
    qtbot.mouseClick(by_name(window, "Dial", QPushButton), Qt.MouseButton.LeftButton)


def test_accessible_names_and_title(session):
    window = session.window
    assert window.windowTitle() == "Switchboard"
    for name, kind in [
        ("Number", QLineEdit),
        ("From", QComboBox),
        ("Room", QComboBox),
        ("Identity", QLineEdit),
        ("Dial", QPushButton),
        ("Rooms", QTableView),
        ("Participants", QTableView),
        ("Calls", QTableView),
        ("Hang up", QPushButton),
        ("New room", QPushButton),
        ("End room", QPushButton),
        ("Disconnect", QPushButton),
    ]:
        assert by_name(window, name, kind).isVisible() or name == "Event log"
    assert "Sandbox" in by_name(window, "Mode", QLabel).text()
    assert session.runtime.public_url in by_name(window, "Webhook URL", QLabel).text()


def test_webhook_health_turns_green(qtbot, session):
    health = by_name(session.window, "Webhook health", QLabel)
    qtbot.waitUntil(lambda: "healthy" in health.text(), timeout=WAIT)


def test_dial_alice_into_a_new_room(qtbot, session):
    dial_in(qtbot, session, "+15551234567", "DailyStandup", "alice")
    assert session.window.statusBar().currentMessage().startswith("Dialing +1 555-123-4567 (US)")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: calls.rowCount() == 1, timeout=WAIT)
    placed = session.window.statusBar().currentMessage()  # "Dialing …" does not linger
    assert placed == "Called +1 555-123-4567 (US) into DailyStandup: see Calls this session"
    qtbot.waitUntil(lambda: statuses(calls, "+15551234567") == ["in-progress"], timeout=WAIT)
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    (alice,) = session.controller.participants_model.records()
    assert (alice.kind, alice.call_status) == ("phone", "in-progress")
    rooms = session.controller.rooms_model.records()
    assert [(r.unique_name, r.type, r.participant_count) for r in rooms] == [
        ("DailyStandup", "group", 1)
    ]
    log = "\n".join(session.window.event_log.lines())
    assert "ringing" in log and "in-progress" in log
    assert 'participantIdentity="alice"' in log  # the TwiML answered, in the event log
    room_box = by_name(session.window, "Room", QComboBox)
    assert room_box.findText("DailyStandup") >= 0


def test_national_number_is_dialled_in_e164(qtbot, session):
    dial_in(qtbot, session, "5551234567", "Support", "bob")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15551234567") == ["in-progress"], timeout=WAIT)


def test_invalid_number_is_shown_on_the_pad(qtbot, session):
    dial_in(qtbot, session, "+15005550001", "Support", "carol")
    error = by_name(session.window, "Dial error", QLabel)
    qtbot.waitUntil(lambda: "21211" in error.text(), timeout=WAIT)
    assert session.controller.calls_model.rowCount() == 0
    assert by_name(session.window, "Dial", QPushButton).text() == "Dial"  # not stuck busy


def test_duplicate_identity_offers_a_free_variant(qtbot, session):
    dial_in(qtbot, session, "+15551230001", "Standup", "alice")
    qtbot.waitUntil(lambda: people(session) == [("alice", "connected")], timeout=WAIT)
    dial_in(qtbot, session, "+15551230002", "Standup", "alice")
    box = _question(qtbot, session.window, "identity-conflict")
    assert "53205" in box.text()
    qtbot.mouseClick(_button(box, "Use alice-2"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: sorted(people(session)) == [("alice", "connected"), ("alice-2", "connected")],
        timeout=WAIT,
    )
    # The call is placed: Number and Identity clear (the room stays), so Enter cannot redial.
    assert by_name(session.window, "Identity", QLineEdit).text() == ""
    assert by_name(session.window, "Number", QLineEdit).text() == ""
    assert by_name(session.window, "Room", QComboBox).currentText() == "Standup"


def test_duplicate_identity_cancel_places_no_call(qtbot, session):
    dial_in(qtbot, session, "+15551230001", "Standup", "dave")
    qtbot.waitUntil(lambda: people(session) == [("dave", "connected")], timeout=WAIT)
    dial_in(qtbot, session, "+15551230002", "Standup", "dave")
    box = _question(qtbot, session.window, "identity-conflict")
    qtbot.mouseClick(_button(box, "Cancel"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: by_name(session.window, "Dial", QPushButton).isEnabled())
    assert session.controller.calls_model.rowCount() == 1


def test_end_room_after_confirmation(qtbot, session):
    dial_in(qtbot, session, "+15551234567", "Retro", "erin")
    qtbot.waitUntil(lambda: people(session) == [("erin", "connected")], timeout=WAIT)
    qtbot.mouseClick(by_name(session.window, "End room", QPushButton), Qt.MouseButton.LeftButton)
    box = _question(qtbot, session.window, "end-room")
    qtbot.mouseClick(_button(box, "End room"), Qt.MouseButton.LeftButton)
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: session.controller.rooms_model.rowCount() == 0, timeout=WAIT)
    qtbot.waitUntil(lambda: statuses(calls, "+15551234567") == ["completed"], timeout=WAIT)
    assert people(session) == []


def test_hang_up_a_ringing_call(qtbot, session):
    dial_in(qtbot, session, "+15005550003", "Support", "frank")  # rings until no-answer
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550003") == ["ringing"], timeout=WAIT)
    hang_up = by_name(session.window, "Hang up", QPushButton)
    qtbot.waitUntil(hang_up.isEnabled)
    qtbot.mouseClick(hang_up, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: statuses(calls, "+15005550003") == ["canceled"], timeout=WAIT)
    assert not hang_up.isEnabled()


def test_busy_callee_shows_its_final_status(qtbot, session):
    dial_in(qtbot, session, "+15005550002", "Support", "gina")
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550002") == ["busy"], timeout=WAIT)


def test_double_click_dials_once(qtbot, session):
    window = session.window
    fill(qtbot, window, "+15551234567", "Once", "hank")
    dial = by_name(window, "Dial", QPushButton)
    qtbot.mouseClick(dial, Qt.MouseButton.LeftButton)
    qtbot.mouseDClick(dial, Qt.MouseButton.LeftButton)
    qtbot.keyClick(by_name(window, "Identity", QLineEdit), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: people(session) == [("hank", "connected")], timeout=WAIT)
    qtbot.waitUntil(lambda: dial.text() == "Dial", timeout=WAIT)
    qtbot.keyClick(by_name(window, "Number", QLineEdit), Qt.Key.Key_Return)  # fields are empty
    assert session.controller.calls_model.rowCount() == 1
    assert (
        len(
            session.controller.gateway.list_participants(
                session.controller.rooms_model.records()[0].sid
            )
        )
        == 1
    )


def test_ctrl_d_dials_and_ctrl_r_refreshes(qtbot, session):
    window = session.window
    fill(qtbot, window, "+15551234567", "Keys", "ivy")
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: session.controller.calls_model.rowCount() == 1, timeout=WAIT)
    with qtbot.waitSignal(session.controller.rooms_loaded, timeout=WAIT):
        qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)


def test_gui_thread_never_stalls_on_slow_twilio(qtbot, session):
    sandbox_control(session, "Faults", DelaySeconds=1.5, DelayShare=1.0)
    # Typed first: QTest delivers the keys back to back with no event loop between them, so
    # ticks measured across the typing would count the typing itself as a stall.
    fill(qtbot, session.window, "+15551234567", "Slow", "judy")
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    ticker = QTimer()
    ticker.setInterval(10)

    def tick() -> None:
        gaps.append(clock.restart())

    ticker.timeout.connect(tick)
    ticker.start()
    started = time.monotonic()
    qtbot.mouseClick(by_name(session.window, "Dial", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.keyClick(session.window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: session.controller.calls_model.rowCount() == 1, timeout=20_000)
    ticker.stop()
    assert time.monotonic() - started > 1.5  # the requests really were slow
    assert max(gaps) < 1000, f"GUI thread stalled for {max(gaps)} ms"  # gross stalls only
    sandbox_control(session, "Faults", DelayShare=0)
    qtbot.waitUntil(lambda: session.runner.pending == 0, timeout=20_000)  # slow ones finish


def _question(qtbot, window, name: str) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, name) is not None, timeout=WAIT)
    box = window.findChild(QMessageBox, name)
    qtbot.waitUntil(box.isVisible)
    return box


def _button(box: QMessageBox, label: str) -> QPushButton:
    (button,) = [b for b in box.buttons() if b.text().replace("&", "") == label]
    return button


def test_new_room_dialog_creates_a_room_with_a_limit(qtbot, session):
    qtbot.keyClick(session.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "new-room")
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(by_name(dialog, "Room name", QLineEdit), "Board")
    by_name(dialog, "Maximum participants", QSpinBox).setValue(1)
    qtbot.keyClick(by_name(dialog, "Room name", QLineEdit), Qt.Key.Key_Return)
    rooms = session.controller.rooms_model
    qtbot.waitUntil(lambda: [r.unique_name for r in rooms.records()] == ["Board"], timeout=WAIT)
    assert rooms.records()[0].max_participants == 1


def test_a_failed_call_shows_twilios_code_and_message(qtbot, session):
    dial_in(qtbot, session, "+15005550003", "Support", "kim")  # rings for a minute
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: statuses(calls, "+15005550003") == ["ringing"], timeout=WAIT)
    (call,) = calls.records()
    fields = {  # what Twilio posts when the call fails, signed as Twilio signs it
        "CallSid": call.sid,
        "AccountSid": session.runtime.account_sid,
        "CallStatus": "failed",
        "SequenceNumber": "9",
        "ErrorCode": "11200",
        "ErrorMessage": "HTTP retrieval failure",
    }
    url = session.runtime.call_status_url
    token = session.runtime.gateway._client.password
    answer = requests.post(
        url, data=fields, headers={"X-Twilio-Signature": twilio_signature(token, url, fields)}
    )
    assert answer.status_code == 204
    qtbot.waitUntil(lambda: statuses(calls, "+15005550003") == ["failed"], timeout=WAIT)
    cell = calls.index(calls.row_of(call.sid), ERROR_COLUMN)
    assert cell.data() == "the webhook did not answer (11200)"
    tip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "Twilio error 11200: HTTP retrieval failure" in tip
    assert "https://www.twilio.com/docs/errors/11200" in tip
    assert "11200" in "\n".join(session.window.event_log.lines())


def test_disconnect_a_participant(qtbot, session):
    dial_in(qtbot, session, "+15551234567", "Ops", "mia")
    qtbot.waitUntil(lambda: people(session) == [("mia", "connected")], timeout=WAIT)
    view = by_name(session.window, "Participants", QTableView)
    view.selectRow(0)
    button = by_name(session.window, "Disconnect", QPushButton)
    qtbot.waitUntil(button.isEnabled)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    calls = session.controller.calls_model
    qtbot.waitUntil(lambda: people(session) == [], timeout=WAIT)
    qtbot.waitUntil(lambda: statuses(calls, "+15551234567") == ["completed"], timeout=WAIT)


def test_webhook_events_update_the_window_without_waiting_for_the_timer(qtbot, session):
    session.window.refresh_timer.stop()  # only webhook events can bring the news now
    dial_in(qtbot, session, "+15551234567", "Events", "ned")
    qtbot.waitUntil(lambda: people(session) == [("ned", "connected")], timeout=WAIT)
    assert not session.window.refresh_timer.isActive()


def test_every_control_has_an_accessible_name(session):
    window = session.window
    controls = [
        w
        for kind in (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QSpinBox)
        for w in window.findChildren(kind)
        if w.isVisibleTo(window) and not isinstance(w.parent(), (QComboBox, QAbstractItemView))
    ]
    unnamed = [type(w).__name__ for w in controls if not w.accessibleName()]
    assert controls and unnamed == []


def test_tab_goes_number_from_room_identity_dial(qtbot, session):
    window = session.window
    qtbot.waitUntil(lambda: by_name(window, "From", QComboBox).count() > 0, timeout=WAIT)
    fill(qtbot, window, "+15551234567", "Tabs", "olga")  # so Dial is enabled and focusable
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    by_name(window, "Number").setFocus()
    seen = []
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        seen.append(focus.accessibleName() or focus.parent().accessibleName())
    assert seen == ["From", "Room", "Identity", "Dial"]


def test_settings_open_with_the_keyboard(qtbot, session):
    qtbot.keyClick(session.window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "settings")
    qtbot.waitUntil(dialog.isVisible)
    assert by_name(dialog, "Refresh interval", QSpinBox).value() == 1
    by_name(dialog, "Refresh interval", QSpinBox).setValue(7)
    dialog.accept()
    qtbot.waitUntil(lambda: session.window.refresh_timer.interval() == 7000)


def test_event_log_opens_with_ctrl_l(qtbot, session):
    log = session.window.event_log
    assert not log.isVisible()
    qtbot.keyClick(session.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(log.isVisible)
    assert by_name(session.window, "Log", QPushButton).isChecked()


def test_route_incoming_calls_here_and_restore(qtbot, session):
    gateway = session.runtime.gateway
    line = next(n for n in gateway.list_numbers() if n.number == "+15005550006")
    gateway.set_voice_url(line.sid, "https://old.example.com/voice")
    qtbot.keyClick(session.window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "routing")
    qtbot.waitUntil(dialog.isVisible)
    numbers = by_name(dialog, "Numbers", QListWidget)
    qtbot.waitUntil(lambda: numbers.count() >= 2, timeout=WAIT)
    (row,) = [i for i in range(numbers.count()) if "+15005550006" in numbers.item(i).text()]
    numbers.setCurrentRow(row)
    route = by_name(dialog, "Route here", QPushButton)
    qtbot.waitUntil(route.isEnabled)
    qtbot.mouseClick(route, Qt.MouseButton.LeftButton)
    target = f"{session.runtime.public_url}/voice/incoming"

    def voice_url() -> str:
        return next(n.voice_url for n in gateway.list_numbers() if n.sid == line.sid)

    qtbot.waitUntil(lambda: voice_url() == target, timeout=WAIT)
    restore = by_name(dialog, "Restore previous", QPushButton)
    qtbot.waitUntil(restore.isEnabled, timeout=WAIT)
    qtbot.mouseClick(restore, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: voice_url() == "https://old.example.com/voice", timeout=WAIT)
    qtbot.waitUntil(lambda: not restore.isEnabled(), timeout=WAIT)


def test_calls_are_recorded_in_the_history_as_they_happen(qtbot, session):
    dial_in(qtbot, session, "+15551234567", "History", "pia")
    qtbot.waitUntil(lambda: people(session) == [("pia", "connected")], timeout=WAIT)
    history = session.runtime.history
    (entry,) = history.search()
    assert (entry.to, entry.room, entry.identity, entry.direction) == (
        "+15551234567",
        "History",
        "pia",
        "outbound-api",
    )
    qtbot.waitUntil(
        lambda: {"ringing", "in-progress"} <= {s.status for s in history.statuses_of(entry.sid)},
        timeout=WAIT,
    )
    qtbot.mouseClick(by_name(session.window, "Hang up", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: history.search()[0].final_status == "completed", timeout=WAIT)


def test_history_opens_with_ctrl_y_and_shows_the_call(qtbot, session):
    dial_in(qtbot, session, "+15551234567", "Hist", "quinn")
    qtbot.waitUntil(lambda: people(session) == [("quinn", "connected")], timeout=WAIT)
    qtbot.keyClick(session.window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    dialog = session.window.findChild(QDialog, "history")
    qtbot.waitUntil(dialog.isVisible)
    table = by_name(dialog, "History", QTableView)
    qtbot.waitUntil(lambda: table.model().rowCount() == 1, timeout=WAIT)
    row = [table.model().index(0, c).data() for c in range(table.model().columnCount())]
    assert "+1 555-123-4567 (US)" in row and "Hist" in row and "quinn" in row


def test_a_dial_list_dials_everyone_into_one_room(qtbot, session):
    from console.core.calls.dial_list import parse_dial_list

    qtbot.waitUntil(lambda: by_name(session.window, "From", QComboBox).count() > 0, timeout=WAIT)
    qtbot.keyClick(
        session.window,
        Qt.Key.Key_D,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    dialog = session.window.findChild(QDialog, "dial-list")
    qtbot.waitUntil(dialog.isVisible)
    csv = "number,identity\n+15551230001,ann\n+15551230002,ben\nnot a number,cat\n"
    assert dialog.load_entries(parse_dial_list(csv, "US"), "test")
    assert by_name(dialog, "Bad rows", QTableView).model().rowCount() == 1
    dialog.set_room("Town")
    qtbot.mouseClick(by_name(dialog, "Dial all", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.window.rooms.select_room_named("Town"), timeout=WAIT)
    expected = [("ann", "connected"), ("ben", "connected")]
    qtbot.waitUntil(lambda: sorted(people(session)) == expected, timeout=20_000)
    calls = session.controller.calls_model
    assert sorted(c.identity for c in calls.records()) == ["ann", "ben"]
    qtbot.waitUntil(lambda: {s.status for s in dialog.states()} == {"in-progress"}, timeout=WAIT)
